"""All of geo's SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.geo.presence import Fix

ZONES_CHANNEL = "geo_zones"
CONSENT_CONSUMER = "geo.consents"  # the bus consumer keeping geo.device_consents


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


async def forget_location_consent(conn: asyncpg.Connection, device_id: str) -> None:
    await conn.execute("DELETE FROM geo.device_consents WHERE device_id = $1", device_id)


async def close_visits_of_zone(conn: asyncpg.Connection, store_id: str, zone_id: str) -> list[asyncpg.Record]:
    """Remove open visits of a zone being deleted; return them so their exits can be published, each with
    the zones its device is still in (`zones`: store_id, zone_id pairs)."""
    return await conn.fetch(
        """
        DELETE FROM geo.visits v WHERE v.store_id = $1 AND v.zone_id = $2
        RETURNING v.device_id, v.entered_at, v.last_inside_at, v.via, v.confidence,
                  (SELECT coalesce(json_agg(json_build_object('store_id', o.store_id, 'zone_id', o.zone_id)
                                            ORDER BY o.store_id, o.zone_id), '[]')
                   FROM geo.visits o
                   WHERE o.device_id = v.device_id AND (o.store_id, o.zone_id) <> ($1, $2)) AS zones
        """,
        store_id,
        zone_id,
    )


# --- device state: presence and active trips, read and written under the device's row lock ---


_LOAD_DEVICE = """
    WITH device AS (
        SELECT d.device_id, d.last_ts, d.last_fix, d.outlier, d.suspicious_at, d.rate_tokens, d.rate_at
        FROM geo.devices d
        WHERE d.device_id = $1
        FOR UPDATE OF d {skip}
    )
    SELECT EXISTS (SELECT 1 FROM bus.deliveries WHERE consumer = $2 AND device_id = $1) AS consent_pending,
           coalesce((SELECT location FROM geo.device_consents WHERE device_id = $1), false) AS consented,
           device.device_id IS NOT NULL AS known,
           device.last_ts, device.last_fix, device.outlier, device.suspicious_at,
           device.rate_tokens, device.rate_at,
           (SELECT json_agg(v) FROM geo.visits v WHERE v.device_id = $1) AS visits,
           (SELECT json_agg(t) FROM geo.trips t
            WHERE t.device_id = $1 AND t.status IN ('started', 'approaching', 'arrived')) AS trips
    FROM (SELECT 1) AS one LEFT JOIN device ON true
"""


async def lock_device(
    conn: asyncpg.Connection, device_id: str, consent_consumer: str, *, skip_locked: bool = False
) -> asyncpg.Record:
    """In one round trip: take the device's row lock for this transaction (if it has a row: `known`),
    and read its location consent (and whether consent events for geo are still pending), presence
    cursor, open visits and active trips (JSON).

    The lock is what keeps two geo processes from applying the same device's pings at the same time
    (and so from firing the same event twice). With skip_locked, a device busy elsewhere reads as unknown.
    """
    return await conn.fetchrow(
        _LOAD_DEVICE.format(skip="SKIP LOCKED" if skip_locked else ""), device_id, consent_consumer
    )


async def add_device(conn: asyncpg.Connection, device_id: str) -> None:
    await conn.execute("INSERT INTO geo.devices (device_id) VALUES ($1) ON CONFLICT DO NOTHING", device_id)


_LOAD_DEVICES = """
    WITH device AS MATERIALIZED (
        SELECT d.device_id, d.last_ts, d.last_fix, d.outlier, d.suspicious_at, d.rate_tokens, d.rate_at
        FROM geo.devices d
        WHERE d.device_id = ANY ($1::text[])
        ORDER BY d.device_id
        FOR UPDATE OF d
    )
    SELECT w.device_id,
           EXISTS (SELECT 1 FROM bus.deliveries WHERE consumer = $2 AND device_id = w.device_id) AS consent_pending,
           coalesce((SELECT location FROM geo.device_consents c WHERE c.device_id = w.device_id), false) AS consented,
           device.device_id IS NOT NULL AS known,
           device.last_ts, device.last_fix, device.outlier, device.suspicious_at,
           device.rate_tokens, device.rate_at,
           (SELECT json_agg(v) FROM geo.visits v WHERE v.device_id = w.device_id) AS visits,
           (SELECT json_agg(t) FROM geo.trips t
            WHERE t.device_id = w.device_id AND t.status IN ('started', 'approaching', 'arrived')) AS trips
    FROM unnest($1::text[]) AS w(device_id) LEFT JOIN device ON device.device_id = w.device_id
"""


async def lock_devices(
    conn: asyncpg.Connection, device_ids: Sequence[str], consent_consumer: str
) -> dict[str, asyncpg.Record]:
    """`lock_device` for several devices in one round trip. The rows are locked in device_id order,
    so two processes locking overlapping sets wait for each other instead of deadlocking."""
    rows = await conn.fetch(_LOAD_DEVICES, sorted(device_ids), consent_consumer)
    return {r["device_id"]: r for r in rows}


async def add_devices(conn: asyncpg.Connection, device_ids: Sequence[str]) -> None:
    await conn.execute(
        """
        INSERT INTO geo.devices (device_id) SELECT d FROM unnest($1::text[]) AS d ORDER BY d
        ON CONFLICT DO NOTHING
        """,
        sorted(device_ids),
    )


async def write_pings(
    conn: asyncpg.Connection, pings: Sequence[tuple[str, Any]], cursors: Sequence[tuple[Any, ...]]
) -> None:
    """Store raw pings of several devices (an exact duplicate is stored once) and their new presence
    cursors, together in one statement.
    pings: (device_id, ping); cursors, at least one:
    (device_id, last_ts, last_fix, outlier, suspicious_at, rate_tokens, rate_at)."""
    await conn.execute(
        """
        WITH stored AS (
            INSERT INTO geo.pings (device_id, ts, lat, lng, accuracy_m, speed_mps, heading)
            SELECT p.device_id, p.ts, p.lat, p.lng, p.accuracy_m, p.speed_mps, p.heading
            FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::float8[], $5::float4[], $6::float4[],
                        $7::float4[])
                 AS p(device_id, ts, lat, lng, accuracy_m, speed_mps, heading)
            ORDER BY p.device_id, p.ts
            ON CONFLICT (device_id, ts) DO NOTHING
        )
        UPDATE geo.devices d
        SET last_ts = c.last_ts, last_fix = c.last_fix, outlier = c.outlier, suspicious_at = c.suspicious_at,
            rate_tokens = c.rate_tokens, rate_at = c.rate_at
        FROM unnest($8::text[], $9::timestamptz[], $10::jsonb[], $11::jsonb[], $12::timestamptz[], $13::float4[],
                    $14::timestamptz[])
             AS c(device_id, last_ts, last_fix, outlier, suspicious_at, rate_tokens, rate_at)
        WHERE d.device_id = c.device_id
        """,
        [d for d, _ in pings],
        [p.ts for _, p in pings],
        [p.lat for _, p in pings],
        [p.lng for _, p in pings],
        [p.accuracy_m for _, p in pings],
        [p.speed_mps for _, p in pings],
        [p.heading for _, p in pings],
        *(list(column) for column in zip(*cursors, strict=True)),
    )


async def stored_pings(
    conn: asyncpg.Connection, device_id: str, at: Sequence[datetime]
) -> dict[datetime, tuple[float, float]]:
    rows = await conn.fetch(
        "SELECT ts, lat, lng FROM geo.pings WHERE device_id = $1 AND ts = ANY ($2::timestamptz[])", device_id, list(at)
    )
    return {r["ts"]: (r["lat"], r["lng"]) for r in rows}


async def open_visits(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT store_id, zone_id, entered_at, last_inside_at, confidence, via, dwelled, beacon_seen_at
        FROM geo.visits WHERE device_id = $1
        """,
        device_id,
    )


async def save_device(
    conn: asyncpg.Connection,
    device_id: str,
    last_ts: datetime | None,
    last_fix: Fix | None,
    outlier: Fix | None,
    suspicious_at: datetime | None,
    rate_tokens: float,
    rate_at: datetime | None,
) -> None:
    await conn.execute(
        """
        UPDATE geo.devices
        SET last_ts = $2, last_fix = $3, outlier = $4, suspicious_at = $5, rate_tokens = $6, rate_at = $7
        WHERE device_id = $1
        """,
        device_id,
        last_ts,
        last_fix,
        outlier,
        suspicious_at,
        rate_tokens,
        rate_at,
    )


async def replace_visits(conn: asyncpg.Connection, device_id: str, visits: Sequence[tuple[Any, ...]]) -> None:
    """visits: (store_id, zone_id, entered_at, last_inside_at, confidence, via, dwelled, beacon_seen_at)."""
    await conn.execute("DELETE FROM geo.visits WHERE device_id = $1", device_id)
    if visits:
        await conn.executemany(
            """
            INSERT INTO geo.visits
                (device_id, store_id, zone_id, entered_at, last_inside_at, confidence, via, dwelled, beacon_seen_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """,
            [(device_id, *v) for v in visits],
        )


async def devices_with_due_timers(conn: asyncpg.Connection, now: datetime, beacon_exit_s: int, limit: int) -> list[str]:
    """Devices with a dwell timer run out or a beacon zone gone silent, as of `now`."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT v.device_id
        FROM geo.visits v JOIN geo.zones z USING (store_id, zone_id)
        WHERE (NOT v.dwelled AND z.dwell_s IS NOT NULL AND v.entered_at + make_interval(secs => z.dwell_s) <= $1)
           OR (v.via = 'beacon' AND v.beacon_seen_at + make_interval(secs => $2) <= $1)
        LIMIT $3
        """,
        now,
        beacon_exit_s,
        limit,
    )
    return [r["device_id"] for r in rows]


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


async def delete_beacon(conn: asyncpg.Connection, store_id: str, beacon_id: str) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM geo.beacons WHERE store_id = $1 AND beacon_id = $2 RETURNING true", store_id, beacon_id
    )
    if deleted:
        await conn.execute("SELECT pg_notify($1, $2)", ZONES_CHANNEL, "")
    return bool(deleted)


async def all_beacons(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT store_id, zone_id, identity FROM geo.beacons")


# --- trips ---

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
        ON CONFLICT (order_id) WHERE status IN ('started', 'approaching', 'arrived') DO NOTHING
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
        f"""
        SELECT {TRIP_COLUMNS} FROM geo.trips
        WHERE order_id = $1 AND status IN ('started', 'approaching', 'arrived')
        """,
        order_id,
    )


async def get_trip(conn: asyncpg.Connection, trip_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {TRIP_COLUMNS} FROM geo.trips WHERE trip_id = $1", trip_id)


async def active_trips_of_device(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {TRIP_COLUMNS} FROM geo.trips
        WHERE device_id = $1 AND status IN ('started', 'approaching', 'arrived')
        ORDER BY started_at
        """,
        device_id,
    )


async def trips_of_store(conn: asyncpg.Connection, store_id: str, statuses: Sequence[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {TRIP_COLUMNS} FROM geo.trips
        WHERE store_id = $1 AND status = ANY ($2::text[])
        ORDER BY coalesce(eta_s, 2147483647), started_at
        """,
        store_id,
        list(statuses),
    )


async def trips_of_order(conn: asyncpg.Connection, order_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {TRIP_COLUMNS} FROM geo.trips WHERE order_id = $1 AND status IN ('started', 'approaching', 'arrived')",
        order_id,
    )


async def expired_trip_devices(conn: asyncpg.Connection, started_before: datetime, limit: int) -> list[str]:
    rows = await conn.fetch(
        """
        SELECT DISTINCT device_id FROM geo.trips
        WHERE status IN ('started', 'approaching') AND started_at < $1
        LIMIT $2
        """,
        started_before,
        limit,
    )
    return [r["device_id"] for r in rows]


async def save_trip(
    conn: asyncpg.Connection, trip_id: str, status: str, distance_m: float | None, eta_s: int | None, at: datetime
) -> None:
    """Record a trip's progress; the time of each status is set once, when it is first reached."""
    await conn.execute(
        """
        UPDATE geo.trips
        SET status = $2, distance_m = $3, eta_s = $4, updated_at = now(),
            approaching_at = CASE WHEN $2 IN ('approaching', 'arrived') THEN coalesce(approaching_at, $5)
                                  ELSE approaching_at END,
            arrived_at = CASE WHEN $2 = 'arrived' THEN coalesce(arrived_at, $5) ELSE arrived_at END,
            ended_at = CASE WHEN $2 IN ('completed', 'canceled', 'expired') THEN coalesce(ended_at, $5)
                            ELSE ended_at END
        WHERE trip_id = $1
        """,
        trip_id,
        status,
        distance_m,
        eta_s,
        at,
    )


# --- privacy: history, retention, export, erasure ---


async def log_visits(conn: asyncpg.Connection, device_id: str, visits: Sequence[tuple[Any, ...]]) -> None:
    """visits: (store_id, zone_id, kind, via, entered_at, exited_at) of visits just closed."""
    await conn.executemany(
        """
        INSERT INTO geo.visit_log (device_id, store_id, zone_id, kind, via, entered_at, exited_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        [(device_id, *v) for v in visits],
    )


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


async def trips_of_device(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {TRIP_COLUMNS} FROM geo.trips WHERE device_id = $1 ORDER BY started_at", device_id)


async def location_consent_of(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT location, updated_at FROM geo.device_consents WHERE device_id = $1", device_id)


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


async def delete_history(conn: asyncpg.Connection, before: datetime) -> int:
    visits = await conn.execute("DELETE FROM geo.visit_log WHERE exited_at < $1", before)
    trips = await conn.execute("DELETE FROM geo.trips WHERE ended_at < $1", before)
    return int(visits.split()[-1]) + int(trips.split()[-1])


async def erase_device(conn: asyncpg.Connection, device_id: str) -> int:
    """Everything geo holds about a device. Returns the rows removed."""
    removed = 0
    for table in ("pings", "visit_log", "trips", "visits", "devices", "device_consents"):
        status = await conn.execute(f"DELETE FROM geo.{table} WHERE device_id = $1", device_id)
        removed += int(status.split()[-1])
    return removed
