"""notify's own record of pickup orders, from inventory's `order.reserved`: what a campaign's results
attribute to its offers (notify never reads inventory's tables). Each order is recorded once, with
the device, the store, when it was placed and its lines; it goes with the device on erasure."""

from __future__ import annotations

import asyncpg

from services.notify.consent import repository as consent_repo
from services.notify.context import NotifyContext
from services.notify.offers import repository as repo
from shared.bus import Consumer
from shared.events import OrderReserved


async def record(conn: asyncpg.Connection, event: OrderReserved, _ctx: NotifyContext) -> None:
    if event.device_id is None or event.store_id is None or event.order_id is None:
        return
    if await consent_repo.get_device(conn, event.device_id) is None:
        return  # erased (a late redelivery must not bring it back), or never offered anything
    lines = [(line.sku, line.qty) for line in event.data.lines]
    await repo.record_order(conn, event.order_id, event.device_id, event.store_id, event.ts, lines, event.id)


ORDERS = Consumer(name="notify.order_record", types=(OrderReserved,), handle=record)
