"""A campaign's dry run: the history read in one read-only snapshot, then replayed (simulate.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import asyncpg

from services.notify.context import NotifyContext
from services.notify.dry_run import repository as repo
from services.notify.dry_run.schemas import CampaignDryRun, DryRun
from services.notify.dry_run.simulate import (
    RECENT,
    Campaign,
    Device,
    History,
    Product,
    Shelf,
    StockChange,
    Trigger,
    Visit,
    dry_run,
)
from services.notify.offers.service import check_document, check_product
from services.notify.policy.decide import Past
from services.notify.replicas.service import UNKNOWN_STORE_TIMEZONE
from shared import bus
from shared.errors import Invalid
from shared.events import StockChanged, ZoneDwelled, ZoneEntered

AS_OF_NOW = ["push_targets", "devices", "products", "store_timezones"]
"""What notify keeps no history of: read as it is now (see DryRun.as_of_now)."""


def _campaign(data: CampaignDryRun) -> Campaign:
    trigger = data.trigger
    return Campaign(
        trigger=Trigger(trigger.type, trigger.store_id, trigger.zone_id, trigger.zone_kind),
        sku=data.sku,
        messages={locale: (m.title, m.body) for locale, m in data.message.items()},
        min_confidence=trigger.min_confidence,
        active=data.active,
        schedule=check_document(data),
    )


def _visit(logged: bus.Logged) -> Visit | None:
    event = logged.event
    if event.device_id is None or not isinstance(event, ZoneEntered | ZoneDwelled):
        return None
    return Visit(
        event_id=event.id,
        type=event.type,
        device_id=event.device_id,
        store_id=event.store_id,
        zone_id=event.zone_id,
        zone_kind=event.data.kind,
        confidence=event.data.confidence,
        happened_at=event.ts,
        published_at=logged.published_at,
    )


async def campaign_dry_run(ctx: NotifyContext, data: CampaignDryRun, now: datetime | None = None) -> DryRun:
    """What the campaign would have done over the last `days` days; nothing is written anywhere."""
    campaign = _campaign(data)
    if data.days > ctx.settings.event_retention_days:
        raise Invalid(f"the event log keeps {ctx.settings.event_retention_days} days", field="days")
    until = now or datetime.now(UTC)
    since = until - timedelta(days=data.days)
    trigger = campaign.trigger
    # One snapshot, read only: the history is consistent, and the transaction cannot write.
    async with ctx.db.transaction(isolation="repeatable_read", readonly=True) as conn:
        await check_product(conn, data)
        logged = await bus.happened_between(conn, [trigger.type], since, until, trigger.store_id)
        visits = [v for v in map(_visit, logged) if v is not None and trigger.matches(v)]
        device_ids = sorted({v.device_id for v in visits})
        known = await repo.devices(conn, device_ids)
        answers = await repo.consent_answers(conn, device_ids, until)
        said = await repo.said_between(conn, device_ids, since - RECENT, until)
        products = await repo.products_of_category(conn, data.sku)
        skus = [p["sku"] for p in products]
        stock = await repo.stock_now(conn, skus)
        changes = await bus.happened_between(conn, ["stock.changed"], since, until, trigger.store_id)
        stores = sorted({v.store_id for v in visits if v.store_id is not None})
        found = await repo.store_timezones(conn, stores)
    history = History(
        visits=tuple(visits),
        devices=_devices(known, answers, said),
        shelf=_shelf(products, stock, changes),
        timezones={s: found.get(s, UNKNOWN_STORE_TIMEZONE) for s in stores},
    )
    outcome = dry_run(campaign, history, ctx.policy)
    return DryRun(
        since=since,
        until=until,
        events=outcome.events,
        devices=len(outcome.devices),
        messages=outcome.messages,
        alternatives=outcome.alternatives,
        suppressed=dict(sorted(outcome.suppressed.items())),
        as_of_now=AS_OF_NOW,
    )


def _devices(
    known: list[asyncpg.Record], answers: list[asyncpg.Record], said: list[asyncpg.Record]
) -> dict[str, Device]:
    answers_of: dict[str, list[tuple[datetime, dict[str, bool]]]] = defaultdict(list)
    for a in answers:
        answers_of[a["device_id"]].append((a["at"], a["purposes"]))
    said_of: dict[str, list[Past]] = defaultdict(list)
    for m in said:
        said_of[m["device_id"]].append(Past(m["event_id"], m["purpose"], m["store_id"], m["sku"], m["decided_at"]))
    return {
        d["device_id"]: Device(
            locale=d["locale"],
            timezone=d["timezone"],
            subscribed=d["subscribed"],
            answers=tuple(answers_of[d["device_id"]]),
            said=tuple(said_of[d["device_id"]]),
        )
        for d in known
    }


def _shelf(products: list[asyncpg.Record], stock: list[asyncpg.Record], changes: list[bus.Logged]) -> Shelf:
    known = {p["sku"]: Product(p["sku"], p["name"], p["category"], p["names"]) for p in products}
    history: dict[tuple[str, str], list[StockChange]] = defaultdict(list)
    for logged in changes:
        event = logged.event
        if isinstance(event, StockChanged) and event.store_id is not None and event.data.sku in known:
            history[(event.store_id, event.data.sku)].append(
                StockChange(logged.published_at, event.data.before, event.data.after)
            )
    return Shelf(
        products=known,
        now={(s["store_id"], s["sku"]): s["available"] for s in stock},
        changes={k: tuple(v) for k, v in history.items()},
    )
