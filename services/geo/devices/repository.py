"""The SQL of devices, and the only SQL that writes their tables: geo.devices (the presence cursor, the
request budget, the waypoints last sent), geo.device_consents (the consent replica), geo.visits (open
visits), geo.visit_log (closed ones, coarse), geo.trips, geo.pings (raw; its hourly partitions are
privacy's) and geo.upload_answers. An active trip is one for which geo.trip_is_active(status) holds.

A device's rows change under its row lock in geo.devices (lock_devices, taken by unit_of_work), and
several devices' locks are taken in device_id order, so two transactions wait for each other instead
of deadlocking; erase_device takes it first too. Retention touches only what no locked device reads
back (cursors of quiet devices, ended trips, closed visits), row by row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import asyncpg
import msgspec

from services.geo.devices.presence import Fix, Via
from services.geo.devices.schemas import PingIn
from shared.db import affected_rows, fetch_value

CONSENT_CONSUMER = "geo.consents"  # the bus consumer keeping geo.device_consents


# --- the rows written, by name (tuples, or Structs msgspec encodes in one call: the ingest path is hot) ---


class DevicePing(NamedTuple):
    device_id: str
    ping: PingIn


class StoredEntry(msgspec.Struct, gc=False):
    """An entry waiting for evidence, as geo.devices.evidence keeps it."""

    store_id: str
    zone_id: str
    since: datetime
    confidence: float
    agreement: bool


class Evidence(msgspec.Struct, gc=False):
    """geo.devices.evidence: what presence keeps between uploads besides the cursor."""

    entries: list[StoredEntry] = []
    trail: tuple[Fix, ...] = ()
    sighted_at: datetime | None = None


class Cursor(msgspec.Struct, gc=False):
    """A device's row as written after a change: its presence cursor and its request budget."""

    device_id: str
    last_ts: datetime | None
    stored_ts: datetime | None
    last_fix: Fix | None
    outlier: Fix | None
    suspicious_at: datetime | None
    rate_tokens: float
    rate_at: datetime | None
    evidence: Evidence | None


class VisitRow(NamedTuple):
    """An open visit, as geo.visits keeps it."""

    device_id: str
    store_id: str
    zone_id: str
    entered_at: datetime
    last_inside_at: datetime
    confidence: float
    via: Via
    dwelled: bool
    beacon_seen_at: datetime | None
    outside_since: datetime | None
    outside_fixes: int


class ClosedVisit(NamedTuple):
    """A visit just closed, in the coarse form geo.visit_log keeps (no coordinates)."""

    device_id: str
    store_id: str
    zone_id: str
    kind: str
    via: str
    entered_at: datetime
    exited_at: datetime


class TripProgress(NamedTuple):
    """Where a trip is now; `at`: when it got there."""

    trip_id: str
    status: str
    distance_m: float | None
    eta_s: int | None
    at: datetime


class UploadEvent(NamedTuple):
    """An event an upload caused, by the upload's fingerprint."""

    device_id: str
    fingerprint: bytes
    event_id: int


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


# --- device state: presence and active trips, read and written under the device's row lock ---

_LOCK_DEVICES = """
    WITH device AS MATERIALIZED (
        SELECT d.device_id, d.last_ts, d.stored_ts, d.last_fix, d.outlier, d.suspicious_at, d.rate_tokens, d.rate_at,
               d.evidence
        FROM geo.devices d
        WHERE d.device_id = ANY ($1::text[])
        ORDER BY d.device_id
        FOR UPDATE OF d {skip}
    )
    SELECT w.device_id,
           EXISTS (SELECT 1 FROM bus.deliveries WHERE consumer = $2 AND device_id = w.device_id) AS consent_pending,
           coalesce((SELECT location FROM geo.device_consents c WHERE c.device_id = w.device_id), false) AS consented,
           device.device_id IS NOT NULL AS known,
           device.last_ts, device.stored_ts, device.last_fix::text, device.outlier::text, device.suspicious_at,
           device.rate_tokens, device.rate_at, device.evidence::text,
           (SELECT json_agg(v)::text FROM geo.visits v WHERE v.device_id = w.device_id) AS visits,
           (SELECT json_agg(t) FROM geo.trips t
            WHERE t.device_id = w.device_id AND geo.trip_is_active(t.status)) AS trips
    FROM unnest($1::text[]) AS w(device_id) LEFT JOIN device ON device.device_id = w.device_id
    ORDER BY w.device_id
"""
_LOCK = _LOCK_DEVICES.format(skip="")
_LOCK_SKIP_LOCKED = _LOCK_DEVICES.format(skip="SKIP LOCKED")


async def lock_devices(
    conn: asyncpg.Connection, device_ids: Sequence[str], *, skip_locked: bool = False
) -> dict[str, asyncpg.Record]:
    """In one round trip: take the devices' row locks for this transaction (those with a row: `known`),
    and read each one's location consent (and whether consent events for geo are still pending),
    presence cursor (its fixes and evidence as JSON text), open visits (JSON text) and active trips
    (JSON).

    The lock is what keeps two geo processes from applying the same device's pings at the same time
    (and so from firing the same event twice). The rows are locked in device_id order, so two
    transactions locking overlapping sets wait for each other instead of deadlocking. With
    skip_locked, a device busy elsewhere reads as unknown. In device_id order."""
    rows = await conn.fetch(_LOCK_SKIP_LOCKED if skip_locked else _LOCK, sorted(device_ids), CONSENT_CONSUMER)
    return {r["device_id"]: r for r in rows}


async def add_devices(conn: asyncpg.Connection, device_ids: Sequence[str]) -> None:
    await conn.execute(
        """
        INSERT INTO geo.devices (device_id) SELECT d FROM unnest($1::text[]) AS d ORDER BY d
        ON CONFLICT DO NOTHING
        """,
        sorted(device_ids),
    )


_INSERT_PINGS_WHERE = """
    INSERT INTO geo.pings (device_id, ts, lat, lng, accuracy_m, speed_mps, heading)
    SELECT p.device_id, p.ts, p.lat, p.lng, p.accuracy_m, p.speed_mps, p.heading
    FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::float8[], $5::float4[], $6::float4[], $7::float4[])
         AS p(device_id, ts, lat, lng, accuracy_m, speed_mps, heading)
    {where}
    ORDER BY p.device_id, p.ts
"""
_INSERT_PINGS = _INSERT_PINGS_WHERE.format(where="")


_WRITE_PINGS_AND_CURSORS = f"""
    WITH stored AS ({_INSERT_PINGS})
    UPDATE geo.devices d
    SET last_ts = c.last_ts, stored_ts = c.stored_ts, last_fix = c.last_fix, outlier = c.outlier,
        suspicious_at = c.suspicious_at, rate_tokens = c.rate_tokens, rate_at = c.rate_at, evidence = c.evidence
    FROM json_to_recordset($8::json)
         AS c(device_id text, last_ts timestamptz, stored_ts timestamptz, last_fix jsonb, outlier jsonb,
              suspicious_at timestamptz, rate_tokens float4, rate_at timestamptz, evidence jsonb)
    WHERE d.device_id = ANY ($9::text[]) AND d.device_id = c.device_id
"""


_STORE_PINGS_AGAIN = (
    _INSERT_PINGS_WHERE.format(
        where="""WHERE NOT EXISTS (
        SELECT FROM geo.pings q
        WHERE q.device_id = p.device_id AND q.ts > p.ts - $8::interval AND q.ts < p.ts + $8::interval)"""
    )
    + "ON CONFLICT (device_id, ts) DO NOTHING"
)


async def write_pings(conn: asyncpg.Connection, pings: Sequence[DevicePing], cursors: Sequence[Cursor]) -> None:
    """Store raw pings of several devices that are not stored yet, and the devices' new presence
    cursors, together in one statement. Each ping is newer than anything its device had (none is
    stored: the device's cursor is past every ping it stored, and the device's row lock keeps other
    writers out).

    A plain INSERT: ON CONFLICT would cost PostgreSQL an extra look-up of the primary key per ping,
    about a third of this statement's work; pings that may be stored already go through
    `store_pings_again`. The cursors go as one JSON document, which msgspec writes in one call: as
    eight arrays they cost the driver a type check and an encoding per element and a call back into
    Python for each jsonb one. The pings stay arrays: as JSON, PostgreSQL would parse text
    timestamps, moving more CPU to it than geo saves.

    The devices' ids go again as an array: PostgreSQL guesses 100 rows for json_to_recordset, and
    against a fleet of tens of thousands it then read every device to update a few (a hash join over
    a sequential scan, 10x the statement's time); `device_id = ANY` leads it to the primary key
    whatever the fleet's size."""
    await conn.execute(
        _WRITE_PINGS_AND_CURSORS,
        *_ping_columns(pings),
        cursors,
        [c.device_id for c in cursors],
    )


async def store_pings_again(conn: asyncpg.Connection, pings: Sequence[DevicePing], min_interval: timedelta) -> None:
    """Store raw pings that may be stored already (a retried upload, a late one, the same time twice),
    each only if its device has no stored ping closer to it than `min_interval` in event time: an exact
    duplicate is stored once, and late pings cannot fill a device's past more densely than live ones.
    No two of `pings` of a device may be that close (the statement does not see its own rows)."""
    await conn.execute(_STORE_PINGS_AGAIN, *_ping_columns(pings), min_interval)


def _ping_columns(pings: Sequence[DevicePing]) -> list[list[object]]:
    return [
        [d for d, _ in pings],
        [p.ts for _, p in pings],
        [p.lat for _, p in pings],
        [p.lng for _, p in pings],
        [p.accuracy_m for _, p in pings],
        [p.speed_mps for _, p in pings],
        [p.heading for _, p in pings],
    ]


async def stored_pings(
    conn: asyncpg.Connection, at: Sequence[tuple[str, datetime]]
) -> dict[tuple[str, datetime], tuple[float, float]]:
    """The stored pings at these (device, time) pairs, of any number of devices in one round trip."""
    rows = await conn.fetch(
        """
        SELECT p.device_id, p.ts, p.lat, p.lng
        FROM unnest($1::text[], $2::timestamptz[]) AS w(device_id, ts)
        JOIN geo.pings p ON p.device_id = w.device_id AND p.ts = w.ts
        """,
        [d for d, _ in at],
        [ts for _, ts in at],
    )
    return {(r["device_id"], r["ts"]): (r["lat"], r["lng"]) for r in rows}


async def replace_visits(conn: asyncpg.Connection, device_ids: Sequence[str], visits: Sequence[VisitRow]) -> None:
    """The open visits of these devices become `visits`."""
    await conn.execute("DELETE FROM geo.visits WHERE device_id = ANY ($1::text[])", list(device_ids))
    if visits:
        await conn.execute(
            """
            INSERT INTO geo.visits
                (device_id, store_id, zone_id, entered_at, last_inside_at, confidence, via, dwelled, beacon_seen_at,
                 outside_since, outside_fixes)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[],
                                 $6::float4[], $7::text[], $8::bool[], $9::timestamptz[], $10::timestamptz[],
                                 $11::int[])
            """,
            *(list(column) for column in zip(*visits, strict=True)),
        )


async def log_visits(conn: asyncpg.Connection, visits: Sequence[ClosedVisit]) -> None:
    """Keep visits just closed, in order, in coarse form."""
    await conn.execute(
        """
        INSERT INTO geo.visit_log (device_id, store_id, zone_id, kind, via, entered_at, exited_at)
        SELECT device_id, store_id, zone_id, kind, via, entered_at, exited_at
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[])
             WITH ORDINALITY AS v(device_id, store_id, zone_id, kind, via, entered_at, exited_at, ord)
        ORDER BY ord
        """,
        *(list(column) for column in zip(*visits, strict=True)),
    )


async def open_visits(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT store_id, zone_id, entered_at, last_inside_at, confidence, via, dwelled, beacon_seen_at
        FROM geo.visits WHERE device_id = $1
        """,
        device_id,
    )


async def devices_in_zone(conn: asyncpg.Connection, store_id: str, zone_id: str) -> list[str]:
    """The devices with an open visit of the zone (visits_zone index)."""
    rows = await conn.fetch("SELECT device_id FROM geo.visits WHERE store_id = $1 AND zone_id = $2", store_id, zone_id)
    return [r["device_id"] for r in rows]


async def devices_per_zone(conn: asyncpg.Connection, store_id: str) -> list[asyncpg.Record]:
    """How many devices are in each zone of the store now: its open visits, counted (visits_zone index).
    Counts only: never who, never where."""
    return await conn.fetch(
        """
        SELECT zone_id, count(*) AS devices
        FROM geo.visits
        WHERE store_id = $1
        GROUP BY zone_id
        """,
        store_id,
    )


async def last_ts_of(conn: asyncpg.Connection, device_id: str) -> datetime | None:
    return await fetch_value(conn, datetime, "SELECT last_ts FROM geo.devices WHERE device_id = $1", device_id)


async def devices_with_due_timers(
    conn: asyncpg.Connection, now: datetime, beacon_exit_s: int, exit_confirm_s: int, limit: int
) -> list[str]:
    """Devices with a dwell timer run out, a beacon zone gone silent, or a phone gone quiet after it was
    seen outside a zone (presence.py says when each is due), as of `now`."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT v.device_id
        FROM geo.visits v JOIN geo.zones z USING (store_id, zone_id)
        WHERE (NOT v.dwelled AND z.dwell_s IS NOT NULL AND v.entered_at + make_interval(secs => z.dwell_s) <= $1)
           OR (v.via = 'beacon' AND v.beacon_seen_at + make_interval(secs => $2) <= $1)
           OR (v.via = 'gps' AND v.outside_fixes >= 2 AND v.outside_since + make_interval(secs => $4) <= $1)
        LIMIT $3
        """,
        now,
        beacon_exit_s,
        limit,
        exit_confirm_s,
    )
    return [r["device_id"] for r in rows]


async def upload_answers(
    conn: asyncpg.Connection, uploads: Sequence[tuple[str, bytes]]
) -> dict[tuple[str, bytes], list[int]]:
    """The events earlier uploads with these (device_id, fingerprint) caused."""
    rows = await conn.fetch(
        """
        SELECT a.device_id, a.fingerprint, a.event_ids
        FROM geo.upload_answers a
        JOIN unnest($1::text[], $2::bytea[]) AS u(device_id, fingerprint) USING (device_id, fingerprint)
        """,
        [d for d, _ in uploads],
        [f for _, f in uploads],
    )
    return {(r["device_id"], r["fingerprint"]): r["event_ids"] for r in rows}


async def remember_answers(conn: asyncpg.Connection, answers: Sequence[UploadEvent]) -> None:
    """Each event an upload caused, for a retry of the same upload to be answered with."""
    await conn.execute(
        """
        INSERT INTO geo.upload_answers (device_id, fingerprint, event_ids)
        SELECT a.device_id, a.fingerprint, array_agg(a.event_id ORDER BY a.event_id)
        FROM unnest($1::text[], $2::bytea[], $3::bigint[]) AS a(device_id, fingerprint, event_id)
        GROUP BY a.device_id, a.fingerprint
        ON CONFLICT (device_id, fingerprint) DO NOTHING
        """,
        [d for d, _, _ in answers],
        [f for _, f, _ in answers],
        [e for _, _, e in answers],
    )


# --- what a device's OwnTracks app was last told ---


async def swap_waypoints_digest(conn: asyncpg.Connection, device_id: str, digest: bytes) -> bool:
    """Remember `digest` as the waypoint set the device was sent; False when it already was."""
    changed = await conn.fetchval(
        """
        UPDATE geo.devices SET waypoints_digest = $2
        WHERE device_id = $1 AND waypoints_digest IS DISTINCT FROM $2
        RETURNING true
        """,
        device_id,
        digest,
    )
    return bool(changed)


# --- pickup trips ---

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


async def trips_started_since(conn: asyncpg.Connection, device_id: str, since: datetime) -> list[datetime]:
    rows = await conn.fetch(
        "SELECT started_at FROM geo.trips WHERE device_id = $1 AND started_at >= $2 ORDER BY started_at",
        device_id,
        since,
    )
    return [r["started_at"] for r in rows]


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


async def save_trips(conn: asyncpg.Connection, trips: Sequence[TripProgress]) -> None:
    """Record trips' progress. The time of each status is set once, when it is first reached."""
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


# --- what geo holds about a device: its export, retention, erasure (privacy's use cases) ---


async def visit_log_of(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT store_id, zone_id, kind, via, entered_at, exited_at
        FROM geo.visit_log WHERE device_id = $1 ORDER BY id
        """,
        device_id,
    )


async def pings_of(conn: asyncpg.Connection, device_id: str, chunk: int) -> AsyncIterator[list[asyncpg.Record]]:
    """The device's pings, oldest first, `chunk` rows at a time through a cursor (in the caller's
    transaction): a day of them is never in memory at once."""
    rows = await conn.cursor(
        """
        SELECT ts, lat, lng, accuracy_m, speed_mps, heading, received_at
        FROM geo.pings WHERE device_id = $1 ORDER BY ts
        """,
        device_id,
    )
    while page := await rows.fetch(chunk):
        yield page


async def location_consent_of(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT location, updated_at FROM geo.device_consents WHERE device_id = $1", device_id)


async def position_of(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    """The device's presence cursor: the time of its newest fix, that fix, a fix refused as implausible,
    and the evidence presence keeps: the fixes of the last half minute (its speed), the zones it seems
    to have entered awaiting another fix, the time of its newest beacon sighting."""
    return await conn.fetchrow(
        """
        SELECT last_ts, last_fix, outlier, suspicious_at,
               coalesce(evidence -> 'trail', '[]') AS recent_fixes,
               coalesce(evidence -> 'entries', '[]') AS pending_entries,
               (evidence ->> 'sighted_at')::timestamptz AS last_sighting_at
        FROM geo.devices WHERE device_id = $1
        """,
        device_id,
    )


async def forget_idle_positions(conn: asyncpg.Connection, idle_before: datetime) -> int:
    """The last known positions of a device that has gone quiet are raw location too, the recent fixes
    of its evidence included: same retention."""
    return affected_rows(
        await conn.execute(
            """
            UPDATE geo.devices SET last_fix = NULL, outlier = NULL, evidence = NULL
            WHERE last_ts < $1 AND (last_fix IS NOT NULL OR outlier IS NOT NULL OR evidence IS NOT NULL)
            """,
            idle_before,
        )
    )


async def coarsen_trips(conn: asyncpg.Connection, ended_before: datetime) -> int:
    """An ended trip keeps its statuses and times, not how far the shopper was when."""
    return affected_rows(
        await conn.execute(
            """
            UPDATE geo.trips SET distance_m = NULL, eta_s = NULL, display_name = NULL
            WHERE ended_at < $1 AND (distance_m IS NOT NULL OR eta_s IS NOT NULL OR display_name IS NOT NULL)
            """,
            ended_before,
        )
    )


async def forget_upload_answers(conn: asyncpg.Connection, before: datetime) -> int:
    """What old uploads caused: a retry comes within moments, never after the pings are gone."""
    return affected_rows(await conn.execute("DELETE FROM geo.upload_answers WHERE created_at < $1", before))


async def delete_history(conn: asyncpg.Connection, before: datetime) -> int:
    visits = await conn.execute("DELETE FROM geo.visit_log WHERE exited_at < $1", before)
    trips = await conn.execute("DELETE FROM geo.trips WHERE ended_at < $1", before)
    return affected_rows(visits) + affected_rows(trips)


async def erase_device(conn: asyncpg.Connection, device_id: str) -> int:
    """Everything geo holds about a device. Returns the rows removed. The device's row lock comes first,
    as for any change to a device: a group of pings that holds the device is waited for (rather than
    having its visits deleted under it, to write them back), and one waiting for it finds no device.
    The DELETE on geo.pings reaches every partition (each one's primary key starts with device_id)."""
    await conn.execute("SELECT FROM geo.devices WHERE device_id = $1 FOR UPDATE", device_id)
    removed = 0
    for table in ("pings", "upload_answers", "visit_log", "trips", "visits", "devices", "device_consents"):
        status = await conn.execute(f"DELETE FROM geo.{table} WHERE device_id = $1", device_id)
        removed += affected_rows(status)
    return removed
