"""The journeys feature's SQL: journeys and their versions, enrollments and the steps they reached,
and the counts results are made of."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.db import affected_rows

WAKE_CHANNEL = "accueil_notify_journeys"
"""NOTIFY channel: an enrollment is due now (the runners also poll, for waits falling due)."""


# --- journeys and their versions ---

JOURNEY_COLUMNS = "j.journey_id, j.name, j.active, j.version, j.created_at, j.updated_at, j.ended_at, v.document"


async def get_journey(conn: asyncpg.Connection, journey_id: str, lock: bool = False) -> asyncpg.Record | None:
    """The journey with its current version's document."""
    return await conn.fetchrow(
        f"""
        SELECT {JOURNEY_COLUMNS}
        FROM notify.journeys j JOIN notify.journey_versions v USING (journey_id, version)
        WHERE j.journey_id = $1{" FOR UPDATE OF j" if lock else ""}
        """,
        journey_id,
    )


async def list_journeys(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {JOURNEY_COLUMNS}
        FROM notify.journeys j JOIN notify.journey_versions v USING (journey_id, version)
        ORDER BY j.journey_id
        """
    )


async def save_journey(
    conn: asyncpg.Connection, journey_id: str, name: str, active: bool, version: int, entry_event: str
) -> None:
    await conn.execute(
        """
        INSERT INTO notify.journeys (journey_id, name, active, version, entry_event) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (journey_id) DO UPDATE
        SET name = excluded.name, active = excluded.active, version = excluded.version,
            entry_event = excluded.entry_event, updated_at = now()
        """,
        journey_id,
        name,
        active,
        version,
        entry_event,
    )


async def add_version(conn: asyncpg.Connection, journey_id: str, version: int, document: dict[str, Any]) -> None:
    await conn.execute(
        "INSERT INTO notify.journey_versions (journey_id, version, document) VALUES ($1, $2, $3)",
        journey_id,
        version,
        document,
    )


async def end_journey(conn: asyncpg.Connection, journey_id: str, now: datetime) -> bool:
    """True if it was not ended and now is."""
    return bool(
        await conn.fetchval(
            """
            UPDATE notify.journeys SET ended_at = $2, active = false, updated_at = $2
            WHERE journey_id = $1 AND ended_at IS NULL RETURNING true
            """,
            journey_id,
            now,
        )
    )


async def documents(conn: asyncpg.Connection, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Any]:
    """The documents of these versions, by (journey_id, version)."""
    rows = await conn.fetch(
        """
        SELECT v.journey_id, v.version, v.document
        FROM notify.journey_versions v
        JOIN unnest($1::text[], $2::int[]) AS k (journey_id, version) USING (journey_id, version)
        """,
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {(r["journey_id"], r["version"]): r["document"] for r in rows}


async def journeys_entered_on(conn: asyncpg.Connection, event_type: str) -> list[asyncpg.Record]:
    """Running journeys whose current version enters on this event type (filters are checked by the caller)."""
    return await conn.fetch(
        "SELECT journey_id, version FROM notify.journeys WHERE entry_event = $1 AND active AND ended_at IS NULL",
        event_type,
    )


async def journey_states(conn: asyncpg.Connection, journey_ids: Sequence[str]) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT journey_id, name, active, ended_at FROM notify.journeys WHERE journey_id = ANY ($1::text[])",
        list(journey_ids),
    )
    return {r["journey_id"]: r for r in rows}


# --- enrollments ---


@dataclass(frozen=True)
class EntryZone:
    """The zone a journey was entered in, as its messages' why names it."""

    zone_id: str
    kind: str
    name: str | None


ENROLLMENT_COLUMNS = """enrollment_id, journey_id, version, device_id, arm, store_id, entry_event_id, entered_at,
    step, ran, wake_at, awaiting, seen, granted, goal_until, converted_at, exited_at, exit_reason, zone_id, zone_kind,
    zone_name"""


async def enrollments_of(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    """The device's enrollments, oldest first, locked: its events are handled one at a time. (Its live
    ones move; its past ones give its arm, when it may enter again, and convert within their window.)"""
    return await conn.fetch(
        f"""
        SELECT {ENROLLMENT_COLUMNS}
        FROM notify.enrollments
        WHERE device_id = $1
        ORDER BY enrollment_id
        FOR UPDATE
        """,
        device_id,
    )


async def enroll(
    conn: asyncpg.Connection,
    journey_id: str,
    version: int,
    device_id: str,
    arm: str,
    store_id: str | None,
    entry_event_id: int,
    entered_at: datetime,
    step: str,
    granted: list[str],
    goal_until: datetime | None,
    now: datetime,
    zone: EntryZone | None = None,
) -> bool:
    """Enter the device (due at once, to run the first step); False if it is in the journey already."""
    return bool(
        await conn.fetchval(
            """
            INSERT INTO notify.enrollments
                (journey_id, version, device_id, arm, store_id, entry_event_id, entered_at, step, ran, wake_at,
                 granted, goal_until, zone_id, zone_kind, zone_name)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false, $11, $9, $10, $12, $13, $14)
            ON CONFLICT (journey_id, device_id) WHERE exited_at IS NULL DO NOTHING
            RETURNING true
            """,
            journey_id,
            version,
            device_id,
            arm,
            store_id,
            entry_event_id,
            entered_at,
            step,
            granted,
            goal_until,
            now,
            None if zone is None else zone.zone_id,
            None if zone is None else zone.kind,
            None if zone is None else zone.name,
        )
    )


@dataclass(frozen=True)
class Move:
    """An enrollment's new place: a step to run at `wake_at`, or parked at it (`ran`)."""

    enrollment_id: int
    step: str
    ran: bool
    wake_at: datetime | None
    awaiting: str | None


async def move(conn: asyncpg.Connection, moves: Sequence[Move]) -> None:
    if not moves:  # an event or a round that moves nobody costs no statement
        return
    await conn.execute(
        """
        UPDATE notify.enrollments e SET step = m.step, ran = m.ran, wake_at = m.wake_at, awaiting = m.awaiting
        FROM unnest($1::bigint[], $2::text[], $3::bool[], $4::timestamptz[], $5::text[])
             AS m (id, step, ran, wake_at, awaiting)
        WHERE e.enrollment_id = m.id AND e.exited_at IS NULL
        """,
        [m.enrollment_id for m in moves],
        [m.step for m in moves],
        [m.ran for m in moves],
        [m.wake_at for m in moves],
        [m.awaiting for m in moves],
    )


async def leave(conn: asyncpg.Connection, ids: Sequence[int], steps: Sequence[str], reason: str, now: datetime) -> None:
    """These enrollments end, each at its step, for `reason`."""
    if not ids:
        return
    await conn.execute(
        """
        UPDATE notify.enrollments e
        SET step = x.step, exited_at = $3, exit_reason = $2, wake_at = NULL, awaiting = NULL, ran = true
        FROM unnest($1::bigint[], $4::text[]) AS x (id, step)
        WHERE e.enrollment_id = x.id AND e.exited_at IS NULL
        """,
        list(ids),
        reason,
        now,
        list(steps),
    )


async def note(conn: asyncpg.Connection, enrollment_id: int, seen: list[str], granted: list[str]) -> None:
    await conn.execute(
        "UPDATE notify.enrollments SET seen = $2, granted = $3 WHERE enrollment_id = $1",
        enrollment_id,
        seen,
        granted,
    )


async def convert(conn: asyncpg.Connection, ids: Sequence[int], at: datetime) -> None:
    if not ids:
        return
    await conn.execute(
        """
        UPDATE notify.enrollments SET converted_at = $2
        WHERE enrollment_id = ANY ($1::bigint[]) AND converted_at IS NULL
        """,
        list(ids),
        at,
    )


async def wake_runners(conn: asyncpg.Connection) -> None:
    """On commit, every replica's runner looks for due enrollments."""
    await conn.execute("SELECT pg_notify($1, '')", WAKE_CHANNEL)


async def due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Enrollments due by `now`, soonest first (not locked: the runner asks geo before it locks them)."""
    return await conn.fetch(
        f"""
        SELECT {ENROLLMENT_COLUMNS} FROM notify.enrollments
        WHERE exited_at IS NULL AND wake_at <= $1
        ORDER BY wake_at
        LIMIT $2
        """,
        now,
        limit,
    )


async def lock_due(conn: asyncpg.Connection, ids: Sequence[int], now: datetime) -> list[asyncpg.Record]:
    """Those of these enrollments still due, with their device, locked for this runner only (one another
    runner or the device's own event holds is skipped: it is handled there, or in the next round)."""
    return await conn.fetch(
        f"""
        SELECT {", ".join("e." + c.strip() for c in ENROLLMENT_COLUMNS.split(","))}, d.locale, d.timezone
        FROM notify.enrollments e JOIN notify.devices d USING (device_id)
        WHERE e.enrollment_id = ANY ($1::bigint[]) AND e.exited_at IS NULL AND e.wake_at <= $2
        ORDER BY e.enrollment_id
        FOR NO KEY UPDATE OF e, d SKIP LOCKED
        """,
        list(ids),
        now,
    )


async def postpone(conn: asyncpg.Connection, enrollment_id: int, until: datetime) -> None:
    await conn.execute("UPDATE notify.enrollments SET wake_at = $2 WHERE enrollment_id = $1", enrollment_id, until)


async def next_wake(conn: asyncpg.Connection) -> datetime | None:
    value: datetime | None = await conn.fetchval(
        "SELECT min(wake_at) FROM notify.enrollments WHERE exited_at IS NULL AND wake_at IS NOT NULL"
    )
    return value


async def record_steps(conn: asyncpg.Connection, reached: Sequence[tuple[int, str]], now: datetime) -> None:
    if not reached:
        return
    await conn.execute(
        """
        INSERT INTO notify.enrollment_steps (enrollment_id, step, reached_at)
        SELECT id, step, $3 FROM unnest($1::bigint[], $2::text[]) AS r (id, step)
        ON CONFLICT DO NOTHING
        """,
        [r[0] for r in reached],
        [r[1] for r in reached],
        now,
    )


async def live_of_journey(conn: asyncpg.Connection, journey_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT enrollment_id, step FROM notify.enrollments WHERE journey_id = $1 AND exited_at IS NULL FOR UPDATE",
        journey_id,
    )


# --- a device's own ---


async def device_enrollments(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT journey_id, version, arm, step, store_id, entered_at, exited_at, exit_reason, converted_at
        FROM notify.enrollments WHERE device_id = $1 ORDER BY enrollment_id
        """,
        device_id,
    )


async def forget_device(conn: asyncpg.Connection, device_id: str, now: datetime) -> None:
    """Erasure: the device leaves every journey (`erased`), and its enrollments keep nothing of it: what
    is left counts in results and points to nobody."""
    await conn.execute(
        """
        UPDATE notify.enrollments
        SET exited_at = coalesce(exited_at, $2), exit_reason = coalesce(exit_reason, 'erased'),
            device_id = NULL, seen = '{}', granted = '{}', wake_at = NULL, awaiting = NULL
        WHERE device_id = $1
        """,
        device_id,
        now,
    )


async def delete_old(conn: asyncpg.Connection, before: datetime) -> int:
    """Enrollments ended before `before` (with their steps), past the message log's retention."""
    status = await conn.execute("DELETE FROM notify.enrollments WHERE exited_at < $1", before)
    return affected_rows(status)


# --- results: a fixed number of statements, whatever the journey's size ---


async def plan_for_the_window(conn: asyncpg.Connection) -> None:
    """The counts below are planned for the window asked, each time, in this transaction: a plan made
    once for any window guesses it narrow and visits the journey's enrollments one at a time, where
    over a whole journey hashing them is quicker (bench/journeys.py, 100,000 enrollments: the messages'
    counts 330 ms against 120, the steps' 260 against 200)."""
    await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")


async def arm_counts(
    conn: asyncpg.Connection, journey_id: str, since: datetime, until: datetime
) -> list[asyncpg.Record]:
    """Per arm and exit reason (NULL: still in it): enrollments, and those converted."""
    return await conn.fetch(
        """
        SELECT arm, exit_reason, count(*) AS entered, count(converted_at) AS converted
        FROM notify.enrollments
        WHERE journey_id = $1 AND entered_at >= $2 AND entered_at <= $3
        GROUP BY arm, exit_reason
        """,
        journey_id,
        since,
        until,
    )


async def step_counts(
    conn: asyncpg.Connection, journey_id: str, since: datetime, until: datetime
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT s.step, count(*) AS reached
        FROM notify.enrollment_steps s JOIN notify.enrollments e USING (enrollment_id)
        WHERE e.journey_id = $1 AND e.entered_at >= $2 AND e.entered_at <= $3
        GROUP BY s.step
        """,
        journey_id,
        since,
        until,
    )


async def message_counts(
    conn: asyncpg.Connection, journey_id: str, since: datetime, until: datetime
) -> list[asyncpg.Record]:
    """Per step, status and reason: the messages of the enrollments that entered in the window."""
    return await conn.fetch(
        """
        SELECT m.journey_step AS step, m.status, m.reason, count(*) AS n
        FROM notify.messages m JOIN notify.enrollments e USING (enrollment_id)
        WHERE m.journey_id = $1 AND e.journey_id = $1 AND e.entered_at >= $2 AND e.entered_at <= $3
        GROUP BY 1, 2, 3
        """,
        journey_id,
        since,
        until,
    )


async def live_counts(conn: asyncpg.Connection, journey_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT step, count(*) AS n FROM notify.enrollments
        WHERE journey_id = $1 AND exited_at IS NULL
        GROUP BY step
        """,
        journey_id,
    )
