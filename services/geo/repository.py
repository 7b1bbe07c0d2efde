"""All of geo's SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

ZONES_CHANNEL = "geo_zones"


async def upsert_store(
    conn: asyncpg.Connection, store_id: str, name: str, lat: float, lng: float, timezone: str
) -> None:
    await conn.execute(
        """
        INSERT INTO geo.stores (store_id, name, lat, lng, timezone) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (store_id) DO UPDATE
        SET name = excluded.name, lat = excluded.lat, lng = excluded.lng, timezone = excluded.timezone,
            updated_at = now()
        """,
        store_id,
        name,
        lat,
        lng,
        timezone,
    )


async def get_store(conn: asyncpg.Connection, store_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT store_id, name, lat, lng, timezone FROM geo.stores WHERE store_id = $1", store_id
    )


async def upsert_zone(
    conn: asyncpg.Connection,
    store_id: str,
    zone_id: str,
    kind: str,
    name: str | None,
    dwell_s: int | None,
    shape: dict[str, Any],
) -> None:
    await conn.execute(
        """
        INSERT INTO geo.zones (store_id, zone_id, kind, name, dwell_s, shape) VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (store_id, zone_id) DO UPDATE
        SET kind = excluded.kind, name = excluded.name, dwell_s = excluded.dwell_s, shape = excluded.shape,
            updated_at = now()
        """,
        store_id,
        zone_id,
        kind,
        name,
        dwell_s,
        shape,
    )
    await notify_zone_changed(conn, store_id, zone_id)


async def delete_zone(conn: asyncpg.Connection, store_id: str, zone_id: str) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM geo.zones WHERE store_id = $1 AND zone_id = $2 RETURNING true", store_id, zone_id
    )
    if deleted:
        await notify_zone_changed(conn, store_id, zone_id)
    return bool(deleted)


async def notify_zone_changed(conn: asyncpg.Connection, store_id: str, zone_id: str) -> None:
    """Every geo process reloads this zone into its index when the transaction commits."""
    await conn.execute("SELECT pg_notify($1, $2)", ZONES_CHANNEL, f"{store_id}\n{zone_id}")


ZONE_COLUMNS = "store_id, zone_id, kind, name, dwell_s, shape"


async def all_zones(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {ZONE_COLUMNS} FROM geo.zones")


async def get_zone(conn: asyncpg.Connection, store_id: str, zone_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {ZONE_COLUMNS} FROM geo.zones WHERE store_id = $1 AND zone_id = $2", store_id, zone_id
    )


async def zones_of_store(conn: asyncpg.Connection, store_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {ZONE_COLUMNS} FROM geo.zones WHERE store_id = $1 ORDER BY zone_id", store_id)


async def set_location_consent(conn: asyncpg.Connection, device_id: str, location: bool, event_id: int) -> None:
    await conn.execute(
        """
        INSERT INTO geo.device_consents (device_id, location, event_id) VALUES ($1, $2, $3)
        ON CONFLICT (device_id) DO UPDATE
        SET location = excluded.location, event_id = excluded.event_id, updated_at = now()
        WHERE geo.device_consents.event_id < excluded.event_id
        """,
        device_id,
        location,
        event_id,
    )


async def location_consented(conn: asyncpg.Connection, device_id: str) -> bool:
    return bool(await conn.fetchval("SELECT location FROM geo.device_consents WHERE device_id = $1", device_id))


async def lock_device(conn: asyncpg.Connection, device_id: str) -> datetime | None:
    """Take the device's row lock for this transaction and return its event-time cursor."""
    await conn.execute("INSERT INTO geo.devices (device_id) VALUES ($1) ON CONFLICT DO NOTHING", device_id)
    return await conn.fetchval("SELECT last_ts FROM geo.devices WHERE device_id = $1 FOR UPDATE", device_id)


async def insert_pings(conn: asyncpg.Connection, device_id: str, pings: Sequence[Any]) -> set[datetime]:
    """Store pings; return the timestamps that were new (an exact duplicate is stored once)."""
    rows = await conn.fetch(
        """
        INSERT INTO geo.pings (device_id, ts, lat, lng, accuracy_m, speed_mps, heading)
        SELECT $1, p.ts, p.lat, p.lng, p.accuracy_m, p.speed_mps, p.heading
        FROM unnest($2::timestamptz[], $3::float8[], $4::float8[], $5::float4[], $6::float4[], $7::float4[])
             AS p(ts, lat, lng, accuracy_m, speed_mps, heading)
        ORDER BY p.ts
        ON CONFLICT (device_id, ts) DO NOTHING
        RETURNING ts
        """,
        device_id,
        [p.ts for p in pings],
        [p.lat for p in pings],
        [p.lng for p in pings],
        [p.accuracy_m for p in pings],
        [p.speed_mps for p in pings],
        [p.heading for p in pings],
    )
    return {r["ts"] for r in rows}


async def open_visits(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT store_id, zone_id, entered_at, last_inside_at, dwelled
        FROM geo.visits WHERE device_id = $1
        """,
        device_id,
    )


async def save_presence(
    conn: asyncpg.Connection,
    device_id: str,
    last_ts: datetime | None,
    visits: Sequence[tuple[str, str, datetime, datetime, bool]],
) -> None:
    await conn.execute("UPDATE geo.devices SET last_ts = $2 WHERE device_id = $1", device_id, last_ts)
    await conn.execute("DELETE FROM geo.visits WHERE device_id = $1", device_id)
    if visits:
        await conn.executemany(
            """
            INSERT INTO geo.visits (device_id, store_id, zone_id, entered_at, last_inside_at, dwelled)
            VALUES ($1, $2, $3, $4, $5, $6)
            """,
            [(device_id, *v) for v in visits],
        )


async def close_visits_of_zone(conn: asyncpg.Connection, store_id: str, zone_id: str) -> list[asyncpg.Record]:
    """Remove open visits of a zone being deleted; return them so their exits can be published."""
    return await conn.fetch(
        """
        DELETE FROM geo.visits WHERE store_id = $1 AND zone_id = $2
        RETURNING device_id, entered_at, last_inside_at
        """,
        store_id,
        zone_id,
    )
