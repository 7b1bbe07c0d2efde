"""inventory's scheduled work (shared.jobs runs each once per tick across replicas)."""

from __future__ import annotations

from datetime import datetime

from services.inventory import orders
from services.inventory.context import InventoryContext
from shared.jobs import Job


async def expire_orders(ctx: InventoryContext, now: datetime) -> int:
    """Orders nobody prepared or collected in time give their stock back."""
    return await orders.cancel_lapsed(ctx.db, orders.holds(ctx.config), now)


EXPIRE_ORDERS = Job(name="inventory.expire_orders", every_s=60, run=expire_orders)

JOBS = [EXPIRE_ORDERS]
