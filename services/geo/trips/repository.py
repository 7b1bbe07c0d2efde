"""The SQL of pickup trips. An active trip is one for which geo.trip_is_active(status) holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

TRIP_COLUMNS = """trip_id, device_id, order_id, store_id, mode, status, display_name, target_lat, target_lng,
    distance_m, eta_s, started_at, approaching_at, arrived_at, ended_at"""


async def insert_trip(
    conn: asyncpg.Connection,
    trip_id: str,
    device_id: str,
    order_id: str,
    store_id: str,
    mode: str,
    display_name: str | None,
    target: tuple[float, float],
) -> asyncpg.Record | None:
    """Start a trip; None if the order already has an active one."""
    return await conn.fetchrow(
        f"""
        INSERT INTO geo.trips
            (trip_id, device_id, order_id, store_id, mode, status, display_name, target_lat, target_lng)
        VALUES ($1, $2, $3, $4, $5, 'started', $6, $7, $8)
        ON CONFLICT (order_id) WHERE geo.trip_is_active(status) DO NOTHING
        RETURNING {TRIP_COLUMNS}
        """,
        trip_id,
        device_id,
        order_id,
        store_id,
        mode,
        display_name,
        target[0],
        target[1],
    )


async def active_trip_of_order(conn: asyncpg.Connection, order_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {TRIP_COLUMNS} FROM geo.trips WHERE order_id = $1 AND geo.trip_is_active(status)", order_id
    )


async def devices_on_trips_of_order(conn: asyncpg.Connection, order_id: str) -> list[str]:
    """The devices with an active trip for this order."""
    rows = await conn.fetch(
        "SELECT DISTINCT device_id FROM geo.trips WHERE order_id = $1 AND geo.trip_is_active(status)", order_id
    )
    return [r["device_id"] for r in rows]


async def get_trip(conn: asyncpg.Connection, trip_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {TRIP_COLUMNS} FROM geo.trips WHERE trip_id = $1", trip_id)


async def active_trips_of_device(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {TRIP_COLUMNS} FROM geo.trips
        WHERE device_id = $1 AND geo.trip_is_active(status)
        ORDER BY started_at
        """,
        device_id,
    )


async def trips_under_way(conn: asyncpg.Connection, store_id: str, limit: int) -> list[asyncpg.Record]:
    """The store's active trips, soonest arrival first (no ETA yet: last)."""
    return await conn.fetch(
        f"""
        SELECT {TRIP_COLUMNS} FROM geo.trips
        WHERE store_id = $1 AND geo.trip_is_active(status)
        ORDER BY coalesce(eta_s, 2147483647), started_at
        LIMIT $2
        """,
        store_id,
        limit,
    )


async def trips_of_store(
    conn: asyncpg.Connection, store_id: str, statuses: Sequence[str], limit: int, before: str | None
) -> list[asyncpg.Record]:
    """The store's trips of these statuses, newest first; with `before`, those after that trip."""
    return await conn.fetch(
        f"""
        SELECT {TRIP_COLUMNS} FROM geo.trips t
        WHERE t.store_id = $1 AND t.status = ANY ($2::text[])
          AND ($4::text IS NULL OR (t.started_at, t.trip_id) < (
                SELECT c.started_at, c.trip_id FROM geo.trips c WHERE c.trip_id = $4 AND c.store_id = $1))
        ORDER BY t.started_at DESC, t.trip_id DESC
        LIMIT $3
        """,
        store_id,
        list(statuses),
        limit,
        before,
    )


async def trips_of_device(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {TRIP_COLUMNS} FROM geo.trips WHERE device_id = $1 ORDER BY started_at", device_id)


async def devices_with_expired_trips(conn: asyncpg.Connection, started_before: datetime, limit: int) -> list[str]:
    """Devices with a trip started before `started_before` that has not arrived (an arrived one never expires)."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT device_id FROM geo.trips
        WHERE geo.trip_is_active(status) AND status <> 'arrived' AND started_at < $1
        LIMIT $2
        """,
        started_before,
        limit,
    )
    return [r["device_id"] for r in rows]


async def save_trips(conn: asyncpg.Connection, trips: Sequence[tuple[Any, ...]]) -> None:
    """Record trips' progress: (trip_id, status, distance_m, eta_s, at). The time of each status is set
    once, when it is first reached."""
    await conn.execute(
        """
        UPDATE geo.trips t
        SET status = c.status, distance_m = c.distance_m, eta_s = c.eta_s, updated_at = now(),
            approaching_at = CASE WHEN c.status IN ('approaching', 'arrived') THEN coalesce(t.approaching_at, c.at)
                                  ELSE t.approaching_at END,
            arrived_at = CASE WHEN c.status = 'arrived' THEN coalesce(t.arrived_at, c.at) ELSE t.arrived_at END,
            ended_at = CASE WHEN NOT geo.trip_is_active(c.status) THEN coalesce(t.ended_at, c.at) ELSE t.ended_at END
        FROM unnest($1::text[], $2::text[], $3::float4[], $4::int4[], $5::timestamptz[])
             AS c(trip_id, status, distance_m, eta_s, at)
        WHERE t.trip_id = c.trip_id
        """,
        *(list(column) for column in zip(*trips, strict=True)),
    )
