"""The SQL of stores, zones and beacons; a change is announced to every geo process (ZONES_CHANNEL)."""

from __future__ import annotations

from collections.abc import Sequence
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


async def get_store(conn: asyncpg.Connection, store_id: str, *, lock: bool = False) -> asyncpg.Record | None:
    """With `lock`, the row is held until the transaction ends (a change audited from this state)."""
    return await conn.fetchrow(
        f"SELECT store_id, name, lat, lng, timezone FROM geo.stores WHERE store_id = $1 {_lock(lock)}", store_id
    )


def _lock(lock: bool) -> str:
    return "FOR UPDATE" if lock else ""


async def list_stores(
    conn: asyncpg.Connection, after: str | None, limit: int, only: Sequence[str] | None = None
) -> list[asyncpg.Record]:
    """The stores by id after `after` (from the first with None), at most `limit`; only those named in
    `only` unless it is None."""
    return await conn.fetch(
        """
        SELECT store_id, name, lat, lng, timezone FROM geo.stores
        WHERE ($1::text IS NULL OR store_id > $1) AND ($3::text[] IS NULL OR store_id = any($3::text[]))
        ORDER BY store_id
        LIMIT $2
        """,
        after,
        limit,
        None if only is None else list(only),
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


async def get_zone(
    conn: asyncpg.Connection, store_id: str, zone_id: str, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {ZONE_COLUMNS} FROM geo.zones WHERE store_id = $1 AND zone_id = $2 {_lock(lock)}", store_id, zone_id
    )


async def zones_of_store(conn: asyncpg.Connection, store_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {ZONE_COLUMNS} FROM geo.zones WHERE store_id = $1 ORDER BY zone_id", store_id)


# --- beacons ---


async def upsert_beacon(conn: asyncpg.Connection, store_id: str, beacon_id: str, zone_id: str, identity: str) -> None:
    await conn.execute(
        """
        INSERT INTO geo.beacons (store_id, beacon_id, zone_id, identity) VALUES ($1, $2, $3, $4)
        ON CONFLICT (store_id, beacon_id) DO UPDATE
        SET zone_id = excluded.zone_id, identity = excluded.identity, updated_at = now()
        """,
        store_id,
        beacon_id,
        zone_id,
        identity,
    )
    await conn.execute("SELECT pg_notify($1, $2)", ZONES_CHANNEL, "")


async def beacon_with_identity(conn: asyncpg.Connection, identity: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT store_id, beacon_id, zone_id FROM geo.beacons WHERE identity = $1", identity)


async def get_beacon(
    conn: asyncpg.Connection, store_id: str, beacon_id: str, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT beacon_id, zone_id, identity FROM geo.beacons WHERE store_id = $1 AND beacon_id = $2 {_lock(lock)}",
        store_id,
        beacon_id,
    )


async def delete_beacon(conn: asyncpg.Connection, store_id: str, beacon_id: str) -> asyncpg.Record | None:
    """The beacon as it was, or None if there was none."""
    deleted = await conn.fetchrow(
        """
        DELETE FROM geo.beacons WHERE store_id = $1 AND beacon_id = $2
        RETURNING beacon_id, zone_id, identity
        """,
        store_id,
        beacon_id,
    )
    if deleted is not None:
        await conn.execute("SELECT pg_notify($1, $2)", ZONES_CHANNEL, "")
    return deleted


async def all_beacons(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT store_id, zone_id, identity FROM geo.beacons")


async def beacons_of_store(conn: asyncpg.Connection, store_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT beacon_id, zone_id, identity FROM geo.beacons WHERE store_id = $1 ORDER BY beacon_id", store_id
    )
