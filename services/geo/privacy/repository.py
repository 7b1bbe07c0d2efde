"""The SQL of what geo keeps about a device: its export, retention, erasure."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def visit_log_of(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT store_id, zone_id, kind, via, entered_at, exited_at
        FROM geo.visit_log WHERE device_id = $1 ORDER BY id
        """,
        device_id,
    )


async def pings_of(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT ts, lat, lng, accuracy_m, speed_mps, heading, received_at
        FROM geo.pings WHERE device_id = $1 ORDER BY ts
        """,
        device_id,
    )


async def location_consent_of(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT location, updated_at FROM geo.device_consents WHERE device_id = $1", device_id)


async def position_of(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    """The device's presence cursor: the time of its newest fix, that fix, a fix refused as implausible."""
    return await conn.fetchrow(
        "SELECT last_ts, last_fix, outlier, suspicious_at FROM geo.devices WHERE device_id = $1", device_id
    )


async def forget_idle_positions(conn: asyncpg.Connection, idle_before: datetime) -> int:
    """The last known position of a device that has gone quiet is raw location too: same retention."""
    return int(
        (
            await conn.execute(
                """
                UPDATE geo.devices SET last_fix = NULL, outlier = NULL
                WHERE last_ts < $1 AND (last_fix IS NOT NULL OR outlier IS NOT NULL)
                """,
                idle_before,
            )
        ).split()[-1]
    )


async def coarsen_trips(conn: asyncpg.Connection, ended_before: datetime) -> int:
    """An ended trip keeps its statuses and times, not how far the shopper was when."""
    return int(
        (
            await conn.execute(
                """
                UPDATE geo.trips SET distance_m = NULL, eta_s = NULL, display_name = NULL
                WHERE ended_at < $1 AND (distance_m IS NOT NULL OR eta_s IS NOT NULL OR display_name IS NOT NULL)
                """,
                ended_before,
            )
        ).split()[-1]
    )


async def forget_upload_answers(conn: asyncpg.Connection, before: datetime) -> int:
    """What old uploads caused: a retry comes within moments, never after the pings are gone."""
    return int((await conn.execute("DELETE FROM geo.upload_answers WHERE created_at < $1", before)).split()[-1])


async def delete_history(conn: asyncpg.Connection, before: datetime) -> int:
    visits = await conn.execute("DELETE FROM geo.visit_log WHERE exited_at < $1", before)
    trips = await conn.execute("DELETE FROM geo.trips WHERE ended_at < $1", before)
    return int(visits.split()[-1]) + int(trips.split()[-1])


async def erase_device(conn: asyncpg.Connection, device_id: str) -> int:
    """Everything geo holds about a device. Returns the rows removed."""
    removed = 0
    for table in ("pings", "upload_answers", "visit_log", "trips", "visits", "devices", "device_consents"):
        status = await conn.execute(f"DELETE FROM geo.{table} WHERE device_id = $1", device_id)
        removed += int(status.split()[-1])
    return removed


async def purge_pings(conn: asyncpg.Connection, older_than: datetime, chunk: int = 10_000) -> int:
    """Delete raw pings taken before `older_than`, in chunks so no lock is held for long."""
    total = 0
    while True:
        deleted = await conn.fetchval(
            """
            WITH gone AS (
                DELETE FROM geo.pings WHERE ctid = ANY (
                    ARRAY(SELECT ctid FROM geo.pings WHERE ts < $1 LIMIT $2)
                )
                RETURNING 1
            )
            SELECT count(*) FROM gone
            """,
            older_than,
            chunk,
        )
        total += deleted
        if deleted < chunk:
            return total
