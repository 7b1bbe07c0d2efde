"""The console's overview: geo's stores, zones, beacons and zone counts and inventory's product names,
asked over their HTTP APIs first, then notify's latest decisions, campaigns and funnels, journeys and
their results. A peer that cannot answer leaves out what it holds and is named in `unavailable`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Literal

import asyncpg

from services.notify.console import repository as repo
from services.notify.console.schemas import (
    BeaconView,
    CampaignView,
    Decision,
    JourneyView,
    Overview,
    PeerBeacon,
    PeerOccupancy,
    PeerProduct,
    PeerStore,
    PeerStorePage,
    PeerZone,
    StoreView,
    Unavailable,
    ZoneView,
)
from services.notify.context import NotifyContext
from services.notify.journeys import service as journeys
from services.notify.offers import service as offers
from shared import peers

STORES_AT_ONCE = 8
"""Stores asked about concurrently: a console poll never floods geo."""


async def overview(ctx: NotifyContext, decisions: int) -> Overview:
    """Everything the console shows. Peers are asked before notify reads its own tables, and no
    transaction is open while they answer."""
    unavailable: list[Unavailable] = []
    try:
        stores = await _stores(ctx)
    except peers.PeerError as exc:
        stores = []
        unavailable.append(Unavailable(service="geo", detail=f"stores, zones and counts not shown: {exc}"))
    # The decisions before the funnels: a funnel then counts every decision shown beside it (read after,
    # it could miss one made in between).
    async with ctx.db.transaction(readonly=True) as conn:
        latest = await repo.latest_decisions(conn, decisions)
    campaigns = await offers.list_campaigns(ctx)
    try:
        products = await _product_names(ctx, {c.sku for c in campaigns})
    except peers.PeerError as exc:
        products = {}
        unavailable.append(Unavailable(service="inventory", detail=f"product names not shown: {exc}"))
    views = [
        CampaignView(
            campaign_id=c.campaign_id,
            status=_status(c.active, c.ended_at),
            trigger=c.trigger,
            sku=c.sku,
            product=products.get(c.sku),
            schedule=c.schedule,
            results=await offers.results(ctx, c.campaign_id, None, None),
        )
        for c in campaigns
    ]
    return Overview(
        at=datetime.now(UTC),
        stores=stores,
        campaigns=views,
        journeys=await _journeys(ctx),
        decisions=[_decision(r) for r in latest],
        unavailable=unavailable,
    )


def _status(active: bool, ended_at: datetime | None) -> Literal["active", "paused", "ended"]:
    if ended_at is not None:
        return "ended"
    return "active" if active else "paused"


async def _journeys(ctx: NotifyContext) -> list[JourneyView]:
    """Every journey, ended ones too, with its results of all time and the devices at each step now."""
    return [
        JourneyView(
            journey_id=j.journey_id,
            name=j.name,
            version=j.version,
            status=_status(j.active, j.ended_at),
            entry=j.entry,
            steps=j.steps,
            holdout_percent=j.holdout_percent,
            exit_on=j.exit_on,
            goal=j.goal,
            results=await journeys.results(ctx, j.journey_id, None, None),
        )
        for j in await journeys.list_journeys(ctx)
    ]


def _decision(row: asyncpg.Record) -> Decision:
    return Decision(
        message_id=row["id"],
        decided_at=row["decided_at"],
        purpose=row["purpose"],
        status=row["status"],
        reason=row["reason"],
        campaign_id=row["campaign_id"] or None,
        journey_id=row["journey_id"],
        journey_step=row["journey_step"],
        store_id=row["store_id"],
        zone_id=row["zone_id"],
        sku=row["sku"],
    )


async def _store_list(ctx: NotifyContext) -> list[PeerStore]:
    """Every store geo has, page by page."""
    stores: list[PeerStore] = []
    after: str | None = None
    while True:
        paging = {"limit": "1000"} | ({"after": after} if after else {})
        page = await peers.get_answer(ctx, "geo", "/v1/stores", PeerStorePage, **paging)
        if page is None:
            raise peers.PeerError("geo answered 404 for /v1/stores")
        stores += page.stores
        after = page.next_after
        if not after:
            return stores


async def _stores(ctx: NotifyContext) -> list[StoreView]:
    listing = await _store_list(ctx)
    gate = asyncio.Semaphore(STORES_AT_ONCE)

    async def one(store: PeerStore) -> StoreView | None:
        async with gate:
            return await _store(ctx, store)

    views = await asyncio.gather(*(one(s) for s in listing))
    return [v for v in views if v is not None]


async def _store(ctx: NotifyContext, store: PeerStore) -> StoreView | None:
    """One store's zones, beacons and counts; None if it went away meanwhile."""
    base = f"/v1/stores/{store.store_id}"
    zones, beacons, counts = await asyncio.gather(
        peers.get_answer(ctx, "geo", f"{base}/zones", list[PeerZone]),
        peers.get_answer(ctx, "geo", f"{base}/beacons", list[PeerBeacon]),
        peers.get_answer(ctx, "geo", f"{base}/occupancy", PeerOccupancy),
    )
    if zones is None or beacons is None or counts is None:
        return None
    devices = {z.zone_id: z.devices for z in counts.zones}
    return StoreView(
        store_id=store.store_id,
        name=store.name,
        lat=store.lat,
        lng=store.lng,
        timezone=store.timezone,
        zones=[
            ZoneView(
                zone_id=z.zone_id,
                kind=z.kind,
                devices=devices.get(z.zone_id, 0),
                name=z.name,
                circle=z.circle,
                polygon=z.polygon,
            )
            for z in zones
        ],
        beacons=[BeaconView(beacon_id=b.beacon_id, zone_id=b.zone_id) for b in beacons],
        counted_at=counts.at,
    )


async def _product_names(ctx: NotifyContext, skus: set[str]) -> dict[str, str]:
    answers = await asyncio.gather(
        *(peers.get_answer(ctx, "inventory", f"/v1/products/{sku}", PeerProduct) for sku in sorted(skus))
    )
    return {product.sku: product.name for product in answers if product is not None}
