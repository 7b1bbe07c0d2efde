"""The SQL of what inventory forgets: orders of an erased device, names past their retention."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.inventory.orders.repository import ORDER_COLUMNS
from shared.db import affected_rows


async def pseudonymize_orders(conn: asyncpg.Connection, device_id: str, pseudonym: str) -> int:
    """Erasure: orders are sales records and stay, with a pseudonym for the device, no name, and no
    cancel reason written by a person (the system's own codes, such as `not_collected`, stay)."""
    status = await conn.execute(
        """
        UPDATE inventory.orders
        SET device_id = $2, display_name = NULL, idempotency_key = NULL,
            cancel_reason = CASE WHEN cancel_reason ~ '^[a-z_]+$' THEN cancel_reason END
        WHERE device_id = $1
        """,
        device_id,
        pseudonym,
    )
    return affected_rows(status)


async def cancel_orders_of_device(conn: asyncpg.Connection, device_id: str, now: datetime) -> list[asyncpg.Record]:
    """Cancel the device's orders still waiting (reserved or ready): nobody will come for them."""
    return await conn.fetch(
        f"""
        WITH moved AS (
            UPDATE inventory.orders
            SET status = 'canceled', canceled_at = $2, cancel_reason = 'erased'
            WHERE device_id = $1 AND status IN ('reserved', 'ready')
            RETURNING *
        )
        SELECT {ORDER_COLUMNS} FROM moved o ORDER BY o.order_id
        """,
        device_id,
        now,
    )


async def forget_display_names(conn: asyncpg.Connection, ended_before: datetime) -> int:
    status = await conn.execute(
        """
        UPDATE inventory.orders SET display_name = NULL
        WHERE display_name IS NOT NULL AND status IN ('collected', 'canceled')
          AND coalesce(collected_at, canceled_at) < $1
        """,
        ended_before,
    )
    return affected_rows(status)
