"""The orders' SQL.

The statement that moves an order locks its row; the use cases run it before touching the stock the
order holds, keeping the lock order set out in the stock repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from shared.db import fetch_one

ORDER_COLUMNS = """o.order_id, o.device_id, o.store_id, o.status, o.display_name, o.created_at, o.ready_at,
    o.collected_at, o.canceled_at, o.cancel_reason,
    (SELECT jsonb_agg(jsonb_build_object('sku', l.sku, 'qty', l.qty) ORDER BY l.sku)
     FROM inventory.order_lines l WHERE l.order_id = o.order_id) AS lines"""


async def insert_order(
    conn: asyncpg.Connection,
    order_id: str,
    device_id: str,
    store_id: str,
    display_name: str | None,
    idempotency_key: str | None,
    now: datetime,
) -> bool:
    """Create the order row; False if this device already used the key (the caller holds the device's
    order lock and has looked the key up first, so that is only a safety net)."""
    return bool(
        await conn.fetchval(
            """
            INSERT INTO inventory.orders (order_id, device_id, store_id, status, display_name, idempotency_key,
                                          created_at)
            VALUES ($1, $2, $3, 'reserved', $4, $5, $6)
            ON CONFLICT (device_id, idempotency_key) DO NOTHING
            RETURNING true
            """,
            order_id,
            device_id,
            store_id,
            display_name,
            idempotency_key,
            now,
        )
    )


async def insert_order_lines(
    conn: asyncpg.Connection, order_id: str, skus: Sequence[str], qtys: Sequence[int]
) -> list[str]:
    """Write the lines of products that exist; return their SKUs (a missing one is unknown)."""
    rows = await conn.fetch(
        """
        INSERT INTO inventory.order_lines (order_id, sku, qty)
        SELECT $1, w.sku, w.qty FROM unnest($2::text[], $3::int[]) AS w(sku, qty)
        JOIN inventory.products p ON p.sku = w.sku
        RETURNING sku
        """,
        order_id,
        list(skus),
        list(qtys),
    )
    return [r["sku"] for r in rows]


async def get_order(conn: asyncpg.Connection, order_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {ORDER_COLUMNS} FROM inventory.orders o WHERE o.order_id = $1", order_id)


async def lock_device_orders(conn: asyncpg.Connection, device_id: str) -> None:
    """A device places its orders one at a time (until this transaction ends): what it holds is counted
    and capped without a race between two of its requests."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('inventory.orders:' || $1, 0))", device_id)


async def holding_of(conn: asyncpg.Connection, device_id: str, since: datetime) -> asyncpg.Record:
    """What the device's open orders hold (units by SKU, JSON), how many there are, and when it placed
    its orders since `since`."""
    return await fetch_one(
        conn,
        """
        SELECT (SELECT count(*) FROM inventory.orders
                WHERE device_id = $1 AND status IN ('reserved', 'ready')) AS open_orders,
               (SELECT coalesce(json_object_agg(sku, units), '{}')
                FROM (SELECT l.sku, sum(l.qty) AS units
                      FROM inventory.orders o JOIN inventory.order_lines l USING (order_id)
                      WHERE o.device_id = $1 AND o.status IN ('reserved', 'ready')
                      GROUP BY l.sku) AS held) AS units,
               (SELECT coalesce(array_agg(created_at), '{}') FROM inventory.orders
                WHERE device_id = $1 AND created_at >= $2) AS placed
        """,
        device_id,
        since,
    )


async def order_by_key(conn: asyncpg.Connection, device_id: str, idempotency_key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {ORDER_COLUMNS} FROM inventory.orders o WHERE o.device_id = $1 AND o.idempotency_key = $2",
        device_id,
        idempotency_key,
    )


async def move_order(
    conn: asyncpg.Connection,
    order_id: str,
    sources: Sequence[str],
    target: str,
    now: datetime,
    cancel_reason: str | None,
) -> asyncpg.Record | None:
    """Move the order only if it is still in one of `sources`: of two racing moves, one wins."""
    return await conn.fetchrow(
        f"""
        WITH moved AS (
            UPDATE inventory.orders
            SET status = $3,
                ready_at = CASE WHEN $3 = 'ready' THEN $4 ELSE ready_at END,
                collected_at = CASE WHEN $3 = 'collected' THEN $4 ELSE collected_at END,
                canceled_at = CASE WHEN $3 = 'canceled' THEN $4 ELSE canceled_at END,
                cancel_reason = CASE WHEN $3 = 'canceled' THEN $5 ELSE cancel_reason END
            WHERE order_id = $1 AND status = ANY ($2::text[])
            RETURNING *
        )
        SELECT {ORDER_COLUMNS} FROM moved o
        """,
        order_id,
        list(sources),
        target,
        now,
        cancel_reason,
    )


async def cancel_lapsed(
    conn: asyncpg.Connection, reserved_before: datetime, ready_before: datetime, now: datetime, limit: int
) -> list[asyncpg.Record]:
    """Cancel up to `limit` orders that waited too long; rows another transaction holds are left for
    the next run rather than waited for."""
    return await conn.fetch(
        f"""
        WITH due AS (
            SELECT order_id FROM inventory.orders
            WHERE (status = 'reserved' AND created_at <= $1) OR (status = 'ready' AND ready_at <= $2)
            ORDER BY order_id
            LIMIT $4
            FOR UPDATE SKIP LOCKED
        ), moved AS (
            UPDATE inventory.orders o
            SET status = 'canceled', canceled_at = $3,
                cancel_reason = CASE WHEN o.status = 'ready' THEN 'not_collected' ELSE 'not_prepared' END
            FROM due
            WHERE o.order_id = due.order_id AND o.status IN ('reserved', 'ready')
            RETURNING o.*
        )
        SELECT {ORDER_COLUMNS} FROM moved o ORDER BY o.order_id
        """,
        reserved_before,
        ready_before,
        now,
        limit,
    )


async def orders_of_store(
    conn: asyncpg.Connection, store_id: str, statuses: Sequence[str], limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {ORDER_COLUMNS} FROM inventory.orders o
        WHERE o.store_id = $1 AND o.status = ANY ($2::text[])
        ORDER BY o.created_at DESC, o.order_id
        LIMIT $3
        """,
        store_id,
        list(statuses),
        limit,
    )


async def orders_of_device(
    conn: asyncpg.Connection, device_id: str, limit: int, before: str | None = None
) -> list[asyncpg.Record]:
    """A device's orders, newest first; with `before`, those that come after that order of its."""
    return await conn.fetch(
        f"""
        SELECT {ORDER_COLUMNS} FROM inventory.orders o
        WHERE o.device_id = $1
          AND ($3::text IS NULL OR (o.created_at, o.order_id) < (
                SELECT c.created_at, c.order_id FROM inventory.orders c WHERE c.order_id = $3 AND c.device_id = $1))
        ORDER BY o.created_at DESC, o.order_id DESC
        LIMIT $2
        """,
        device_id,
        limit,
        before,
    )
