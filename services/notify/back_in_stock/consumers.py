"""A product is back at a store (inventory's `stock.back_in_stock`): each request waiting for it is
answered, once, from notify's own data (see answer.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from services.notify.back_in_stock import repository as repo
from services.notify.back_in_stock.answer import answer, answer_reasons, available_now
from services.notify.back_in_stock.service import still_answered
from services.notify.consent import repository as consent_repo
from services.notify.context import NotifyContext
from services.notify.outbox import service as outbox
from services.notify.outbox.delivery import topic_of
from services.notify.outbox.kinds import DeliveryKind
from services.notify.outbox.messages import Addressee, Outgoing
from services.notify.policy.purposes import BACK_IN_STOCK
from services.notify.policy.why import why_of
from services.notify.replicas import service as replicas
from shared.bus import Consumer
from shared.events import StockBackInStock

BACK_IN_STOCK_DELIVERY = DeliveryKind(
    purpose=BACK_IN_STOCK,
    ttl=timedelta(hours=1),
    # Asked for, but not urgent: delivered as usual.
    urgency="normal",
    still_wanted=still_answered,
)
""""It is back" is about stock that may sell out again within hours."""


async def answer_requests(conn: asyncpg.Connection, event: StockBackInStock, ctx: NotifyContext) -> None:
    """Exactly once per request: its devices are locked (an erased one is gone, with its requests), its
    open requests locked and answered, and an answered request is no longer open, in this transaction.
    A replayed event records nothing new (the message log's key), and a second live message for one
    request is refused by the log's unique index whatever the race."""
    if event.store_id is None:
        return
    store_id, sku, now = event.store_id, event.data.sku, datetime.now(UTC)
    devices = {}
    for device_id in await repo.waiting_devices(conn, store_id, sku, now):
        device = await consent_repo.lock_device(conn, device_id)
        if device is not None:
            devices[device_id] = device
    if not devices:
        return
    waiting = await repo.lock_waiting(conn, store_id, sku, list(devices), now)
    product = await replicas.product_at(conn, store_id, sku)
    available = available_now(event, await replicas.stock_level(conn, store_id, sku))
    store = (await replicas.store_of(conn, store_id)).name
    answered = []
    for request in waiting:
        device_id = request["device_id"]
        who = await outbox.recipient_of(conn, devices[device_id])
        decision = answer(sku, product, available, who, now, ctx.policy)
        reasons = answer_reasons(product, store, request["requested_at"], who.timezone)
        message = Outgoing(
            to=Addressee("device", device_id),
            event_id=event.id,
            kind=BACK_IN_STOCK_DELIVERY,
            status=decision.status,
            reason=decision.reason,
            store_id=store_id,
            sku=sku,
            locale=decision.locale,
            title=decision.title,
            body=decision.body,
            # One per store and product: a copy shown twice replaces itself on the device.
            topic=topic_of(BACK_IN_STOCK, store_id, sku),
            send_after=decision.send_after,
            request_id=request["request_id"],
            why=why_of(decision, reasons, who.timezone),
        )
        recorded = await outbox.queue(conn, [message])
        if recorded and decision.status != "suppressed":
            answered.append(request["request_id"])
    await repo.mark_answered(conn, answered)


BACK_IN_STOCK_EVENTS = Consumer(name="notify.back_in_stock", types=(StockBackInStock,), handle=answer_requests)
