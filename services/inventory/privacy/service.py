"""Privacy's use cases: the notice, a device's erasure, forgetting names past their retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.inventory.context import InventoryContext
from services.inventory.orders import service as orders
from services.inventory.privacy import repository as repo
from services.inventory.privacy.notice import collection
from shared import erasure
from shared.events import ErasureRequested


def notice(ctx: InventoryContext) -> dict[str, Any]:
    return {"service": ctx.service, "collects": collection(ctx.config)}


async def erase(conn: asyncpg.Connection, event: ErasureRequested, ctx: InventoryContext) -> None:
    """notify asked for a device's erasure: its orders keep only a pseudonym and no name, those still
    waiting are canceled (their stock goes back on sale), then say so on the bus."""
    now = datetime.now(UTC)
    if event.device_id is not None:
        pseudonym = erasure.pseudonym(ctx.settings.token_key, event.device_id)
        await repo.pseudonymize_orders(conn, event.device_id, pseudonym)
        canceled = await repo.cancel_orders_of_device(conn, pseudonym, now)
        await orders.release_canceled(conn, ctx, canceled, now)
    await erasure.confirm(conn, ctx.service, event.data.erasure_id, now)


async def forget_display_names(ctx: InventoryContext, now: datetime) -> int:
    async with ctx.db.transaction() as conn:
        return await repo.forget_display_names(conn, now - timedelta(days=ctx.config.display_name_retention_days))
