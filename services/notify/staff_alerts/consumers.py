"""What the pickup flow's events make notify say: alerts to the store's staff as a shopper drives in,
and the shopper's own pickup updates."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import asyncpg

from services.notify.consent import repository as consent_repo
from services.notify.context import NotifyContext
from services.notify.outbox import service as outbox
from services.notify.outbox.delivery import topic_of
from services.notify.outbox.kinds import DeliveryKind
from services.notify.outbox.messages import Addressee, Outgoing
from services.notify.policy.decide import decide_pickup
from services.notify.policy.purposes import PICKUP_UPDATES, STAFF_ALERTS
from services.notify.policy.why import Reasons, why_of
from services.notify.replicas import service as replicas
from services.notify.staff_alerts import repository as repo
from services.notify.staff_alerts.alerts import OUTCOMES, shopper_texts, staff_push
from services.notify.staff_alerts.streams import payload_of, row_of
from shared.bus import Consumer
from shared.events import OrderReady, TripApproaching, TripArrived, TripCanceled, TripCompleted, TripExpired

STAFF_ALERT_DELIVERY = DeliveryKind(purpose=STAFF_ALERTS, ttl=timedelta(minutes=15), urgency="high")
"""A staff alert is about a car pulling in now; it wakes the phone, and needs no consent (it is their job)."""

PICKUP_DELIVERY = DeliveryKind(
    purpose=PICKUP_UPDATES, ttl=timedelta(hours=1), urgency="high", still_wanted=outbox.while_consented(PICKUP_UPDATES)
)
"""A pickup update is about an order waiting for the shopper; it wakes the phone."""

TripEvent = TripApproaching | TripArrived | TripCompleted | TripCanceled | TripExpired


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
        return  # already told (a redelivered event), the trip is past this step, or the shopper is erased
    await repo.announce(conn, [payload_of(record)])
    alert = row_of(record)
    # One per order: an unread "4 min away" on a staff phone is replaced by "has arrived".
    topic = topic_of("staff", event.store_id, event.order_id or event.trip_id)
    pushes = []
    for staff in await repo.staff_to_push(conn, event.store_id):
        locale, title, body = staff_push(alert, staff["locale"])
        pushes.append(
            Outgoing(
                to=Addressee("staff", staff["staff_id"]),
                event_id=event.id,
                kind=STAFF_ALERT_DELIVERY,
                status="pending",
                store_id=event.store_id,
                order_id=event.order_id,
                locale=locale,
                title=title,
                body=body,
                topic=topic,
            )
        )
    await outbox.queue(conn, pushes)


async def tell_shopper(conn: asyncpg.Connection, event: OrderReady | TripArrived, ctx: NotifyContext) -> None:
    """The shopper's pickup updates: "your order is ready" (order.ready), "we see you" (trip.arrived),
    said with the `pickup_updates` consent, recorded either way."""
    if event.device_id is None:
        return
    device = await consent_repo.lock_device(conn, event.device_id)
    if device is None:
        return  # erased, or never registered with notify
    step: Literal["ready", "arrived"] = "ready" if isinstance(event, OrderReady) else "arrived"
    texts = shopper_texts(step, event.order_id, None if isinstance(event, OrderReady) else event.data.bay)
    who = await outbox.recipient_of(conn, device)
    decision = decide_pickup(texts, who)
    reasons = Reasons(purpose=PICKUP_UPDATES, store=(await replicas.store_of(conn, event.store_id)).name, pickup=step)
    update = Outgoing(
        to=Addressee("device", event.device_id),
        event_id=event.id,
        kind=PICKUP_DELIVERY,
        status=decision.status,
        reason=decision.reason,
        store_id=event.store_id,
        order_id=event.order_id,
        locale=decision.locale,
        title=decision.title,
        body=decision.body,
        # One per order: "we see you" replaces a "ready" still waiting at the push service or on screen.
        topic=topic_of("pickup", event.order_id or event.trip_id or str(event.id)),
        why=why_of(decision, reasons, who.timezone),
    )
    await outbox.queue(conn, [update])


STAFF_ALERT_EVENTS = Consumer(
    name="notify.staff_alerts",
    types=(TripApproaching, TripArrived, TripCompleted, TripCanceled, TripExpired),
    handle=alert_staff,
)
PICKUP_EVENTS = Consumer(name="notify.pickup_updates", types=(OrderReady, TripArrived), handle=tell_shopper)
