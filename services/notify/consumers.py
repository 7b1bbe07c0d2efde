"""What notify does with other services' events."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services.notify import repository as repo
from services.notify.alerts import OUTCOMES, STAFF_ALERTS, shopper_texts, staff_push
from services.notify.context import NotifyContext
from services.notify.decide import (
    OFFERS,
    PICKUP_UPDATES,
    Moment,
    Offer,
    Past,
    Recipient,
    admit,
    decide_offer,
    decide_pickup,
)
from services.notify.delivery import TTL_S, topic_of
from services.notify.inventory_client import InventoryClient
from services.notify.streams import payload_of, row_of
from shared.bus import Consumer
from shared.events import (
    PURPOSES,
    OrderReady,
    TripApproaching,
    TripArrived,
    TripCanceled,
    TripCompleted,
    TripExpired,
    ZoneDwelled,
    ZoneEntered,
)

TripEvent = TripApproaching | TripArrived | TripCompleted | TripCanceled | TripExpired

RECENT_DAYS = 8
"""How far back caps and duplicates look: a local ISO week, whatever the device's time zone."""


async def recipient(conn: asyncpg.Connection, device: asyncpg.Record) -> Recipient:
    """What the decision needs to know about a device: consents, language, time zone, reachability,
    and the messages recently said or on their way to it."""
    device_id = device["device_id"]
    row = await repo.get_consents(conn, device_id)
    consents = {p: bool(row[p]) for p in PURPOSES} if row else {}
    recent = await repo.recent_messages(conn, device_id, RECENT_DAYS)
    return Recipient(
        consents=consents,
        locale=device["locale"],
        timezone=device["timezone"],
        subscribed=await repo.has_subscription(conn, device_id),
        recent=tuple(Past(r["event_id"], r["purpose"], r["store_id"], r["sku"], r["decided_at"]) for r in recent),
    )


async def decide_offers(conn: asyncpg.Connection, event: ZoneEntered | ZoneDwelled, ctx: NotifyContext) -> None:
    """A shopper entered or dwelled in a zone: decide, once, each matching campaign's offer."""
    if event.device_id is None:
        return
    device = await repo.lock_device(conn, event.device_id)
    if device is None:
        return  # erased, or never registered with notify: nothing to say to it
    campaigns = await repo.campaigns_for(conn, event.type, event.store_id, event.zone_id, event.data.kind)
    if not campaigns:
        return
    who = await recipient(conn, device)
    moment = Moment(event_id=event.id, store_id=event.store_id, now=datetime.now(UTC), happened_at=event.ts)
    inventory = InventoryClient(ctx)
    for campaign in campaigns:
        product = alternative = None
        if admit(OFFERS, who) is None and event.store_id is not None:
            product = await inventory.product_at(event.store_id, campaign["sku"])
            if product is None or product.available <= 0:
                alternative = await inventory.best_alternative(event.store_id, campaign["sku"])
        messages = {loc: (m["title"], m["body"]) for loc, m in campaign["message"].items()}
        decision = decide_offer(Offer(messages, campaign["sku"], product, alternative), who, moment, ctx.policy)
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


async def alert_staff(conn: asyncpg.Connection, event: TripEvent, ctx: NotifyContext) -> None:
    """A shopper is coming for an order: the store's staff are told, once per trip and step, on their
    live streams and by Web Push. The trip's end (handed over, canceled, expired) closes its alerts."""
    if event.trip_id is None or event.store_id is None:
        return
    step = event.type.removeprefix("trip.")
    if step in OUTCOMES:
        closed = await repo.close_alerts(conn, event.trip_id, step)
        await repo.announce(conn, [payload_of(r) for r in closed])
        return
    data = event.data
    eta_s, distance_m = data.eta_s, data.distance_m
    record = await repo.insert_alert(
        conn,
        store_id=event.store_id,
        trip_id=event.trip_id,
        order_id=event.order_id,
        device_id=event.device_id,
        kind=step,
        display_name=data.display_name,
        bay=data.bay,
        mode=data.mode,
        eta_s=None if eta_s is None else round(eta_s),
        distance_m=None if distance_m is None else float(distance_m),
        event_id=event.id,
        at=event.ts,
    )
    if record is None:
        return  # already told (a redelivered event), or the trip is past this step
    await repo.announce(conn, [payload_of(record)])
    alert = row_of(record)
    staff = await repo.staff_to_push(conn, event.store_id)
    pushes = [staff_push(alert, s["locale"]) for s in staff]
    await repo.record_staff_messages(
        conn,
        event_id=event.id,
        store_id=event.store_id,
        order_id=event.order_id,
        # One per order: an unread "4 min away" on a staff phone is replaced by "has arrived".
        topic=topic_of("staff", event.store_id, event.order_id or event.trip_id),
        ttl_s=TTL_S[STAFF_ALERTS],
        staff_ids=[s["staff_id"] for s in staff],
        locales=[p[0] for p in pushes],
        titles=[p[1] for p in pushes],
        bodies=[p[2] for p in pushes],
    )


async def tell_shopper(conn: asyncpg.Connection, event: OrderReady | TripArrived, ctx: NotifyContext) -> None:
    """The shopper's pickup updates: "your order is ready" (order.ready), "we see you" (trip.arrived),
    said with the `pickup_updates` consent, recorded either way."""
    if event.device_id is None:
        return
    step, bay = ("ready", None) if isinstance(event, OrderReady) else ("arrived", event.data.bay)
    device = await repo.lock_device(conn, event.device_id)
    if device is None:
        return  # erased, or never registered with notify
    decision = decide_pickup(shopper_texts(step, event.order_id, bay), await recipient(conn, device))
    await repo.record_message(
        conn,
        device_id=event.device_id,
        event_id=event.id,
        campaign_id="",
        purpose=PICKUP_UPDATES,
        status=decision.status,
        reason=decision.reason,
        store_id=event.store_id,
        zone_id=None,
        sku=None,
        locale=decision.locale,
        title=decision.title,
        body=decision.body,
        # One per order: "we see you" replaces a "ready" still waiting at the push service or on screen.
        topic=topic_of("pickup", event.order_id or event.trip_id or str(event.id)),
        send_after=None,
        ttl_s=TTL_S[PICKUP_UPDATES],
        order_id=event.order_id,
    )


OFFER_EVENTS = Consumer(name="notify.offers", types=(ZoneEntered, ZoneDwelled), handle=decide_offers)
STAFF_ALERT_EVENTS = Consumer(
    name="notify.staff_alerts",
    types=(TripApproaching, TripArrived, TripCompleted, TripCanceled, TripExpired),
    handle=alert_staff,
)
PICKUP_EVENTS = Consumer(name="notify.pickup_updates", types=(OrderReady, TripArrived), handle=tell_shopper)

CONSUMERS = [OFFER_EVENTS, STAFF_ALERT_EVENTS, PICKUP_EVENTS]
