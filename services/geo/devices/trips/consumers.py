"""What geo learns of orders through the bus."""

from __future__ import annotations

import asyncpg

from services.geo.context import GeoContext
from services.geo.devices import repository as repo
from services.geo.devices.unit_of_work import locked_devices
from shared.bus import Consumer
from shared.events import OrderCanceled, OrderCollected


async def end_trips_of_order(conn: asyncpg.Connection, event: OrderCollected | OrderCanceled, ctx: GeoContext) -> None:
    """inventory says the order was collected (the trip is complete) or canceled (so is the trip)."""
    if event.order_id is None:
        return
    how = "completed" if isinstance(event, OrderCollected) else "canceled"
    device_ids = await repo.devices_on_trips_of_order(conn, event.order_id)
    async with locked_devices(ctx, conn, device_ids) as batch:
        for device in batch.devices.values():
            device.end_trips(how, event.ts, ctx.zones.index, order_id=event.order_id, reason=event.type)


ORDERS = Consumer(name="geo.orders", types=(OrderCollected, OrderCanceled), handle=end_trips_of_order)

CONSUMERS = [ORDERS]
