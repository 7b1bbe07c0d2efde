"""The privacy feature's SQL: erasure requests, and the event log's events about a device."""

from __future__ import annotations

import asyncpg

from shared.db import fetch_one


async def create_erasure(
    conn: asyncpg.Connection, erasure_id: str, subject: str, device_id: str, pending: list[str]
) -> asyncpg.Record:
    return await fetch_one(
        conn,
        """
        INSERT INTO notify.erasures (erasure_id, subject, device_id, pending) VALUES ($1, $2, $3, $4)
        RETURNING erasure_id, pending, requested_at, completed_at
        """,
        erasure_id,
        subject,
        device_id,
        pending,
    )


async def erasure_of_subject(conn: asyncpg.Connection, subject: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT erasure_id, pending, requested_at, completed_at FROM notify.erasures
        WHERE subject = $1 ORDER BY requested_at DESC LIMIT 1
        """,
        subject,
    )


async def get_erasure(conn: asyncpg.Connection, erasure_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT erasure_id, pending, requested_at, completed_at FROM notify.erasures WHERE erasure_id = $1",
        erasure_id,
    )


async def confirm_erasure(conn: asyncpg.Connection, erasure_id: str, service: str) -> asyncpg.Record | None:
    """Strike a service off; when none is left the request is complete. Returns the device id once,
    at completion (and forgets it), so the caller can clear what remains elsewhere."""
    return await conn.fetchrow(
        """
        WITH before AS (SELECT device_id FROM notify.erasures WHERE erasure_id = $1 FOR UPDATE)
        UPDATE notify.erasures e
        SET pending = array_remove(e.pending, $2),
            completed_at = CASE WHEN array_remove(e.pending, $2) = '{}' THEN coalesce(e.completed_at, now()) END,
            device_id = CASE WHEN array_remove(e.pending, $2) = '{}' THEN NULL ELSE e.device_id END
        FROM before
        WHERE e.erasure_id = $1
        RETURNING e.completed_at IS NOT NULL AND before.device_id IS NOT NULL AS just_completed,
                  before.device_id
        """,
        erasure_id,
        service,
    )


async def events_about(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    """Every event in the bus's log about the device, whichever service published it, oldest first."""
    return await conn.fetch(
        """
        SELECT id, type, ts, device_id, store_id, zone_id, trip_id, order_id, data
        FROM bus.events
        WHERE device_id = $1
        ORDER BY id
        """,
        device_id,
    )
