"""The offers feature's bus consumers: a shopper walks in and the matching campaigns' offers are
decided from notify's own data only; a pickup order is recorded for the campaigns' results."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services.notify.consent import repository as consent_repo
from services.notify.context import NotifyContext
from services.notify.offers import repository as repo
from services.notify.offers import schedule
from services.notify.offers.decide import OFFER_MOMENT, Offer, decide_offer, offer_reasons
from services.notify.outbox import service as outbox
from services.notify.outbox.delivery import topic_of
from services.notify.outbox.kinds import DeliveryKind
from services.notify.outbox.messages import Addressee, Outgoing
from services.notify.policy.decide import Moment, Past, admit
from services.notify.policy.purposes import OFFERS
from services.notify.policy.why import Zone, why_of
from services.notify.replicas import service as replicas
from shared.bus import Consumer
from shared.events import OrderReserved, ZoneDwelled, ZoneEntered

OFFER_DELIVERY = DeliveryKind(
    purpose=OFFERS,
    ttl=OFFER_MOMENT,
    # `low` lets a phone batch offers to save battery.
    urgency="low",
    still_wanted=outbox.while_consented(OFFERS),
)
"""An offer is about a visit in progress: worth delivering for as long as the visit may last."""


async def decide_offers(conn: asyncpg.Connection, event: ZoneEntered | ZoneDwelled, ctx: NotifyContext) -> None:
    """A shopper entered or dwelled in a zone: decide, once, each matching campaign's offer, on the
    stock as notify's replica has it (see replicas/)."""
    if event.device_id is None:
        return
    device = await consent_repo.lock_device(conn, event.device_id)
    if device is None:
        return  # erased, or never registered with notify: nothing to say to it
    campaigns = await repo.campaigns_for(conn, event.type, event.store_id, event.zone_id, event.data.kind)
    if not campaigns:
        return
    who = await outbox.recipient_of(conn, device)
    store = await replicas.store_of(conn, event.store_id)
    moment = Moment(
        event_id=event.id,
        store_id=event.store_id,
        now=datetime.now(UTC),
        happened_at=event.ts,
        confidence=event.data.confidence,
        store_timezone=store.timezone,
    )
    to = Addressee("device", event.device_id)
    zone = Zone(kind=event.data.kind, name=event.data.name)
    for campaign in campaigns:
        product = alternative = None
        if admit(OFFERS, who) is None and event.store_id is not None:
            product = await replicas.product_at(conn, event.store_id, campaign["sku"])
            if product is None or product.available <= 0:
                alternative = await replicas.best_alternative(conn, event.store_id, campaign["sku"])
        messages = {loc: (m["title"], m["body"]) for loc, m in campaign["message"].items()}
        offer = Offer(
            messages,
            campaign["sku"],
            product,
            alternative,
            campaign["min_confidence"],
            paused=not campaign["active"],
            schedule=schedule.stored(campaign["schedule"]),
        )
        decision = decide_offer(offer, who, moment, ctx.policy)
        reasons = offer_reasons(offer, decision, store.name, zone, campaign=campaign["campaign_id"])
        recorded = await outbox.queue(
            conn,
            [
                Outgoing(
                    to=to,
                    event_id=event.id,
                    campaign_id=campaign["campaign_id"],
                    kind=OFFER_DELIVERY,
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
                    why=why_of(decision, reasons, who.timezone),
                )
            ],
        )
        if recorded and decision.status != "suppressed":
            who = who.remember(Past(event.id, OFFERS, event.store_id, decision.sku, moment.now))


OFFER_EVENTS = Consumer(name="notify.offers", types=(ZoneEntered, ZoneDwelled), handle=decide_offers)


async def record_order(conn: asyncpg.Connection, event: OrderReserved, _ctx: NotifyContext) -> None:
    """notify's own record of pickup orders, from inventory's `order.reserved`: what a campaign's results
    attribute to its offers (notify never reads inventory's tables). Each order is recorded once, with
    the device, the store, when it was placed and its lines; it goes with the device on erasure."""
    if event.device_id is None or event.store_id is None or event.order_id is None:
        return
    if not await consent_repo.hold_device(conn, event.device_id):
        return  # erased, or being erased (a late event must not bring it back), or never offered anything
    lines = [(line.sku, line.qty) for line in event.data.lines]
    await repo.record_order(conn, event.order_id, event.device_id, event.store_id, event.ts, lines, event.id)


ORDERS = Consumer(name="notify.order_record", types=(OrderReserved,), handle=record_order)
