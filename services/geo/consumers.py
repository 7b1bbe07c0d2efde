"""What geo learns from the other services through the bus."""

from __future__ import annotations

import asyncpg

from services.geo import repository as repo
from services.geo.consents import CONSENTS
from services.geo.context import GeoContext
from services.geo.device_state import DeviceState
from shared.bus import Consumer
from shared.events import OrderCanceled, OrderCollected


async def end_trips_of_order(conn: asyncpg.Connection, event: OrderCollected | OrderCanceled, ctx: GeoContext) -> None:
    """inventory says the order was collected (the trip is complete) or canceled (so is the trip)."""
    if event.order_id is None:
        return
    how = "completed" if isinstance(event, OrderCollected) else "canceled"
    for device_id in {t["device_id"] for t in await repo.trips_of_order(conn, event.order_id)}:
        device = await DeviceState.load(conn, device_id)
        assert device is not None
        before = device.presence
        device.end_trips(how, event.ts, ctx.zones.index, order_id=event.order_id, reason=event.type)
        await device.save(conn, before)


ORDERS = Consumer(name="geo.orders", types=(OrderCollected, OrderCanceled), handle=end_trips_of_order)

CONSUMERS = [CONSENTS, ORDERS]
