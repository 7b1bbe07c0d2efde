"""inventory's scheduled work (shared.jobs runs each once per tick across replicas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.inventory import orders
from shared.jobs import Job


async def expire_orders(state: Any, now: datetime) -> int:
    """Orders nobody prepared or collected in time give their stock back."""
    return await orders.cancel_lapsed(state.pool, orders.holds(state.config), now)


EXPIRE_ORDERS = Job(name="inventory.expire_orders", every_s=60, run=expire_orders)

JOBS = [EXPIRE_ORDERS]
