"""What notify does with other services' events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.notify import repository as repo
from services.notify.decide import OFFERS, Moment, Offer, Past, Recipient, admit, decide_offer
from services.notify.delivery import TTL_S, topic_of
from services.notify.inventory_client import InventoryClient
from shared.bus import Consumer
from shared.events import Event

RECENT_DAYS = 8
"""How far back caps and duplicates look: a local ISO week, whatever the device's time zone."""


async def recipient(conn: asyncpg.Connection, device: asyncpg.Record) -> Recipient:
    """What the decision needs to know about a device: consents, language, time zone, reachability,
    and the messages recently said or on their way to it."""
    device_id = device["device_id"]
    row = await repo.get_consents(conn, device_id)
    consents = {p: bool(row[p]) for p in ("location", "pickup_updates", "offers")} if row else {}
    recent = await repo.recent_messages(conn, device_id, RECENT_DAYS)
    return Recipient(
        consents=consents,
        locale=device["locale"],
        timezone=device["timezone"],
        subscribed=await repo.has_subscription(conn, device_id),
        recent=tuple(Past(r["event_id"], r["purpose"], r["store_id"], r["sku"], r["decided_at"]) for r in recent),
    )


async def decide_offers(conn: asyncpg.Connection, event: Event, state: Any) -> None:
    """A shopper entered or dwelled in a zone: decide, once, each matching campaign's offer."""
    if event.device_id is None:
        return
    device = await repo.lock_device(conn, event.device_id)
    if device is None:
        return  # erased, or never registered with notify: nothing to say to it
    campaigns = await repo.campaigns_for(conn, event.type, event.store_id, event.zone_id, event.data.get("kind"))
    if not campaigns:
        return
    who = await recipient(conn, device)
    moment = Moment(event_id=event.id, store_id=event.store_id, now=datetime.now(UTC))
    inventory = InventoryClient(state.http, state.settings.inventory_url, state.service_token)
    for campaign in campaigns:
        product = alternative = None
        if admit(OFFERS, who) is None and event.store_id is not None:
            product = await inventory.product_at(event.store_id, campaign["sku"])
            if product is None or product.available <= 0:
                alternative = await inventory.best_alternative(event.store_id, campaign["sku"])
        messages = {loc: (m["title"], m["body"]) for loc, m in campaign["message"].items()}
        decision = decide_offer(Offer(messages, campaign["sku"], product, alternative), who, moment, state.policy)
        recorded = await repo.record_message(
            conn,
            device_id=event.device_id,
            event_id=event.id,
            campaign_id=campaign["campaign_id"],
            purpose=OFFERS,
            status=decision.status,
            reason=decision.reason,
            store_id=event.store_id,
            zone_id=event.zone_id,
            sku=decision.sku,
            locale=decision.locale,
            title=decision.title,
            body=decision.body,
            topic=topic_of(OFFERS, str(event.id), campaign["campaign_id"]),
            send_after=decision.send_after,
            ttl_s=TTL_S[OFFERS],
        )
        if recorded and decision.status != "suppressed":
            who = who.remember(Past(event.id, OFFERS, event.store_id, decision.sku, moment.now))


OFFER_EVENTS = Consumer(name="notify.offers", types=("zone.entered", "zone.dwelled"), handle=decide_offers)

CONSUMERS = [OFFER_EVENTS]
