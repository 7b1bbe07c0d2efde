"""What geo learns from the other services through the bus."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.geo import repository as repo
from services.geo.consents import CONSENTS
from services.geo.device_state import DeviceState
from shared.bus import Consumer
from shared.events import Event


async def end_trips_of_order(conn: asyncpg.Connection, event: Event, state: Any) -> None:
    """inventory says the order was collected (the trip is complete) or canceled (so is the trip)."""
    if event.order_id is None:
        return
    how = "completed" if event.type == "order.collected" else "canceled"
    for device_id in {t["device_id"] for t in await repo.trips_of_order(conn, event.order_id)}:
        device = await DeviceState.load(conn, device_id)
        assert device is not None
        before = device.presence
        device.end_trips(how, event.ts, state.zones.index, order_id=event.order_id, reason=event.type)
        await device.save(conn, before)


ORDERS = Consumer(name="geo.orders", types=("order.collected", "order.canceled"), handle=end_trips_of_order)

CONSUMERS = [CONSENTS, ORDERS]
