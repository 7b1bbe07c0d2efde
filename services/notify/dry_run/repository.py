"""The dry run's SQL: what notify kept of the devices' past and of the shelves. Reads only: a dry run
never writes, never queues a message, never publishes an event."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def devices(conn: asyncpg.Connection, device_ids: list[str]) -> list[asyncpg.Record]:
    """The devices notify knows among these, with whether they can be reached (a push target now)."""
    return await conn.fetch(
        """
        SELECT d.device_id, d.locale, d.timezone,
               EXISTS (SELECT 1 FROM notify.push_targets t
                       WHERE t.recipient_kind = 'device' AND t.recipient_id = d.device_id) AS subscribed
        FROM notify.devices d
        WHERE d.device_id = any($1::text[])
        ORDER BY d.device_id
        """,
        device_ids,
    )


async def consent_answers(conn: asyncpg.Connection, device_ids: list[str], until: datetime) -> list[asyncpg.Record]:
    """Every answer these devices gave up to then, oldest first per device (the proof of consent:
    kept whole, so the answer in force at any moment can be told)."""
    return await conn.fetch(
        """
        SELECT device_id, at, purposes
        FROM notify.consent_history
        WHERE device_id = any($1::text[]) AND at <= $2
        ORDER BY device_id, at, id
        """,
        device_ids,
        until,
    )


async def said_between(
    conn: asyncpg.Connection, device_ids: list[str], since: datetime, until: datetime
) -> list[asyncpg.Record]:
    """The messages said, on their way or held for these devices, decided in (since, until]: what caps
    and duplicates count (as outbox.repository.recent_messages reads them for a live decision)."""
    return await conn.fetch(
        """
        SELECT device_id, event_id, purpose, store_id, sku, decided_at
        FROM notify.messages
        WHERE device_id = any($1::text[]) AND status <> 'suppressed' AND decided_at > $2 AND decided_at <= $3
        ORDER BY device_id, decided_at, id
        """,
        device_ids,
        since,
        until,
    )


async def products_of_categories(conn: asyncpg.Connection, skus: list[str]) -> list[asyncpg.Record]:
    """These products and those of their categories (their alternatives), as the replica knows them."""
    return await conn.fetch(
        """
        SELECT p.sku, p.name, p.category, p.names
        FROM notify.products p
        WHERE p.category IN (SELECT category FROM notify.products WHERE sku = any($1::text[]))
        ORDER BY p.sku
        """,
        skus,
    )


async def stock_now(conn: asyncpg.Connection, skus: list[str]) -> list[asyncpg.Record]:
    """What each store can hand over of these products now, as the replica has it."""
    return await conn.fetch(
        "SELECT store_id, sku, available FROM notify.stock WHERE sku = any($1::text[]) ORDER BY store_id, sku",
        skus,
    )


async def store_timezones(conn: asyncpg.Connection, store_ids: list[str]) -> dict[str, str]:
    rows = await conn.fetch("SELECT store_id, timezone FROM notify.stores WHERE store_id = any($1::text[])", store_ids)
    return {r["store_id"]: r["timezone"] for r in rows}


async def open_requests(conn: asyncpg.Connection, device_ids: list[str]) -> list[asyncpg.Record]:
    """The back-in-stock requests of these devices open now (notify keeps no history of them)."""
    return await conn.fetch(
        """
        SELECT device_id, store_id, sku FROM notify.back_in_stock_requests
        WHERE device_id = any($1::text[]) AND status = 'open'
        ORDER BY device_id, store_id, sku
        """,
        device_ids,
    )
