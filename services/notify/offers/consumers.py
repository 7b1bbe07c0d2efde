"""A shopper walks in: the matching campaigns' offers, decided from notify's own data only."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services.notify.consent import repository as consent_repo
from services.notify.context import NotifyContext
from services.notify.offers import repository as repo
from services.notify.offers import schedule, stock
from services.notify.offers.decide import OFFERS, Moment, Offer, Past, admit, decide_offer
from services.notify.offers.stores import timezone_of
from services.notify.outbox import service as outbox
from services.notify.outbox.delivery import TTL_S, topic_of
from services.notify.outbox.messages import Addressee, Outgoing
from shared.bus import Consumer
from shared.events import ZoneDwelled, ZoneEntered


async def decide_offers(conn: asyncpg.Connection, event: ZoneEntered | ZoneDwelled, ctx: NotifyContext) -> None:
    """A shopper entered or dwelled in a zone: decide, once, each matching campaign's offer, on the
    stock as notify's replica has it (see stock.py)."""
    if event.device_id is None:
        return
    device = await consent_repo.lock_device(conn, event.device_id)
    if device is None:
        return  # erased, or never registered with notify: nothing to say to it
    campaigns = await repo.campaigns_for(conn, event.type, event.store_id, event.zone_id, event.data.kind)
    if not campaigns:
        return
    who = await outbox.recipient_of(conn, device)
    moment = Moment(
        event_id=event.id,
        store_id=event.store_id,
        now=datetime.now(UTC),
        happened_at=event.ts,
        confidence=event.data.confidence,
        store_timezone=await timezone_of(conn, event.store_id),
    )
    to = Addressee("device", event.device_id)
    for campaign in campaigns:
        product = alternative = None
        if admit(OFFERS, who) is None and event.store_id is not None:
            product = await stock.product_at(conn, event.store_id, campaign["sku"])
            if product is None or product.available <= 0:
                alternative = await stock.best_alternative(conn, event.store_id, campaign["sku"])
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
        recorded = await outbox.queue(
            conn,
            [
                Outgoing(
                    to=to,
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
            ],
        )
        if recorded and decision.status != "suppressed":
            who = who.remember(Past(event.id, OFFERS, event.store_id, decision.sku, moment.now))


OFFER_EVENTS = Consumer(name="notify.offers", types=(ZoneEntered, ZoneDwelled), handle=decide_offers)
