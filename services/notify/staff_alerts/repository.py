"""The staff alerts feature's SQL: staff members, and the pickup alerts their stores' streams show."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.db import affected_rows, fetch_one

# --- staff ---


async def create_staff(
    conn: asyncpg.Connection, staff_id: str, store_id: str, name: str, locale: str
) -> asyncpg.Record:
    return await fetch_one(
        conn,
        """
        INSERT INTO notify.staff (staff_id, store_id, name, locale) VALUES ($1, $2, $3, $4)
        RETURNING staff_id, store_id, name, locale, created_at
        """,
        staff_id,
        store_id,
        name,
        locale,
    )


_STAFF = """
    SELECT st.staff_id, st.store_id, st.name, st.locale, st.created_at, s.recipient_id IS NOT NULL AS push
    FROM notify.staff st
    LEFT JOIN notify.push_targets s ON s.recipient_kind = 'staff' AND s.recipient_id = st.staff_id
"""
"""A staff member as answered: with whether they get alerts by push."""


async def get_staff(conn: asyncpg.Connection, staff_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(_STAFF + "WHERE st.staff_id = $1 AND st.removed_at IS NULL", staff_id)


async def staff_of_store(
    conn: asyncpg.Connection, store_id: str, after: str | None, limit: int
) -> list[asyncpg.Record]:
    """The store's staff (not removed) by id after `after` (from the first with None), at most `limit`."""
    return await conn.fetch(
        _STAFF
        + """
        WHERE st.store_id = $1 AND st.removed_at IS NULL AND ($2::text IS NULL OR st.staff_id > $2)
        ORDER BY st.staff_id
        LIMIT $3
        """,
        store_id,
        after,
        limit,
    )


async def remove_staff(conn: asyncpg.Connection, staff_id: str) -> bool:
    """Mark the staff member removed; False if there is none (or no longer)."""
    removed = await conn.fetchval(
        "UPDATE notify.staff SET removed_at = now() WHERE staff_id = $1 AND removed_at IS NULL RETURNING true",
        staff_id,
    )
    return bool(removed)


async def use_ticket(conn: asyncpg.Connection, jti: str, expires_at: datetime) -> bool:
    """Record a stream ticket as used; False if it already was."""
    used = await conn.fetchval(
        """
        INSERT INTO notify.used_stream_tickets (jti, expires_at) VALUES ($1, $2)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        jti,
        expires_at,
    )
    return bool(used)


async def delete_expired_tickets(conn: asyncpg.Connection, now: datetime) -> int:
    """An expired ticket is refused anyway: no need to remember it was used."""
    status = await conn.execute("DELETE FROM notify.used_stream_tickets WHERE expires_at < $1", now)
    return affected_rows(status)


async def staff_to_push(conn: asyncpg.Connection, store_id: str) -> list[asyncpg.Record]:
    """The store's staff who enabled push, with the language their alerts are written in."""
    return await conn.fetch(
        """
        SELECT st.staff_id, st.locale
        FROM notify.staff st
        JOIN notify.push_targets s ON s.recipient_kind = 'staff' AND s.recipient_id = st.staff_id
        WHERE st.store_id = $1 AND st.removed_at IS NULL
        ORDER BY st.staff_id
        """,
        store_id,
    )


# --- alerts ---

ALERT_CHANNEL = "accueil_notify_alerts"
"""NOTIFY channel: an alert was created or changed; the payload is the alert (AlertRow as JSON)."""

_ALERT_LOCK = 0x616C65727473  # "alerts": held from taking a stream position until commit

_ALERT_COLUMNS = """alert_id, store_id, trip_id, order_id, device_id, kind, display_name, bay, mode, eta_s,
    distance_m, event_id, at, created_at, acked_by, acked_by_name, acked_at, closed_at, outcome, created_seq, seq"""


async def _take_positions(conn: asyncpg.Connection) -> None:
    """Changes to alerts take their stream positions (nextval) one transaction at a time, so the
    positions commit in order and a stream resuming after position N misses nothing."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _ALERT_LOCK)


async def announce(conn: asyncpg.Connection, payloads: list[str]) -> None:
    """Tell every replica's live streams, on commit."""
    for payload in payloads:
        await conn.execute("SELECT pg_notify($1, $2)", ALERT_CHANNEL, payload)


async def insert_alert(
    conn: asyncpg.Connection,
    *,
    store_id: str,
    trip_id: str,
    order_id: str | None,
    device_id: str | None,
    kind: str,
    display_name: str | None,
    bay: str | None,
    mode: str | None,
    eta_s: int | None,
    distance_m: float | None,
    event_id: int,
    at: datetime,
) -> asyncpg.Record | None:
    """The trip's alert for this step, unless it exists already (a redelivered event), the trip has
    moved past it (an `approaching` retried after the arrival, or after the trip ended), or notify no
    longer holds the shopper's device (erased).

    The device is read after the positions' lock is taken, in a statement begun after it (read
    committed): an erasure takes the same lock before it closes and anonymizes the device's alerts
    (close_alerts_of_device), so either it committed first and the device is gone here, or this
    alert commits first and the erasure sees it."""
    await _take_positions(conn)
    return await conn.fetchrow(
        f"""
        WITH pos AS (SELECT nextval('notify.alert_seq') AS seq)
        INSERT INTO notify.alerts
            (store_id, trip_id, order_id, device_id, kind, display_name, bay, mode, eta_s, distance_m, event_id, at,
             created_seq, seq)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, pos.seq, pos.seq
        FROM pos
        WHERE ($5 = 'arrived' OR NOT EXISTS (
            SELECT 1 FROM notify.alerts
            WHERE trip_id = $2 AND (kind = 'arrived' OR closed_at IS NOT NULL)
        ))
          AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM notify.devices WHERE device_id = $4))
        ON CONFLICT (trip_id, kind) DO NOTHING
        RETURNING {_ALERT_COLUMNS}
        """,
        store_id,
        trip_id,
        order_id,
        device_id,
        kind,
        display_name,
        bay,
        mode,
        eta_s,
        distance_m,
        event_id,
        at,
    )


async def ack_alert(
    conn: asyncpg.Connection, alert_id: int, staff_id: str, staff_name: str | None
) -> asyncpg.Record | None:
    """Record who is on their way out; None if the alert was already acked (the first answer stands)
    or closed (the trip is over)."""
    await _take_positions(conn)
    return await conn.fetchrow(
        f"""
        UPDATE notify.alerts
        SET acked_by = $2, acked_by_name = $3, acked_at = now(), seq = nextval('notify.alert_seq')
        WHERE alert_id = $1 AND acked_at IS NULL AND closed_at IS NULL
        RETURNING {_ALERT_COLUMNS}
        """,
        alert_id,
        staff_id,
        staff_name,
    )


async def close_alerts(conn: asyncpg.Connection, trip_id: str, outcome: str) -> list[asyncpg.Record]:
    """The trip is over (the order handed over, the trip canceled or expired): its alerts close."""
    await _take_positions(conn)
    return await conn.fetch(
        f"""
        UPDATE notify.alerts
        SET closed_at = now(), outcome = $2, seq = nextval('notify.alert_seq')
        WHERE alert_id IN (
            SELECT alert_id FROM notify.alerts WHERE trip_id = $1 AND closed_at IS NULL ORDER BY alert_id
        )
        RETURNING {_ALERT_COLUMNS}
        """,
        trip_id,
        outcome,
    )


async def close_alerts_of_device(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    """The shopper is being erased: their open alerts close as canceled (their order is), without
    their name, so live staff screens stop showing someone who will not come."""
    await _take_positions(conn)
    return await conn.fetch(
        f"""
        UPDATE notify.alerts
        SET closed_at = now(), outcome = 'canceled', seq = nextval('notify.alert_seq'), display_name = NULL
        WHERE alert_id IN (
            SELECT alert_id FROM notify.alerts WHERE device_id = $1 AND closed_at IS NULL ORDER BY alert_id
        )
        RETURNING {_ALERT_COLUMNS}
        """,
        device_id,
    )


async def get_alert(conn: asyncpg.Connection, alert_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_ALERT_COLUMNS} FROM notify.alerts WHERE alert_id = $1", alert_id)


async def alerts_of_store(conn: asyncpg.Connection, store_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_ALERT_COLUMNS} FROM notify.alerts WHERE store_id = $1 ORDER BY alert_id DESC LIMIT $2",
        store_id,
        limit,
    )


async def alert_changes(conn: asyncpg.Connection, store_id: str, after: int, limit: int) -> list[asyncpg.Record]:
    """The store's alerts changed after stream position `after`, in position order, each as it is now."""
    return await conn.fetch(
        f"""
        SELECT {_ALERT_COLUMNS} FROM notify.alerts
        WHERE store_id = $1 AND seq > $2
        ORDER BY seq
        LIMIT $3
        """,
        store_id,
        after,
        limit,
    )


async def open_alerts(conn: asyncpg.Connection, store_id: str, since: datetime) -> tuple[list[asyncpg.Record], int]:
    """What a stream opened afresh starts with: the store's alerts still open (created since `since`),
    oldest first, and the stream position they reflect (read in a repeatable-read transaction, so the
    two agree)."""
    rows = await conn.fetch(
        f"""
        SELECT {_ALERT_COLUMNS} FROM notify.alerts
        WHERE store_id = $1 AND closed_at IS NULL AND created_at >= $2
        ORDER BY seq
        """,
        store_id,
        since,
    )
    return rows, await alert_position(conn, store_id)


async def alert_position(conn: asyncpg.Connection, store_id: str) -> int:
    """The position of the store's latest change (0: none yet)."""
    return int(await conn.fetchval("SELECT coalesce(max(seq), 0) FROM notify.alerts WHERE store_id = $1", store_id))


async def alerts_about(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    """Staff alerts about the device's pickups (what staff were told about its arrival)."""
    return await conn.fetch(
        """
        SELECT alert_id, store_id, order_id, kind, display_name, bay, eta_s, created_at, acked_at, closed_at
        FROM notify.alerts WHERE device_id = $1 ORDER BY alert_id
        """,
        device_id,
    )


async def forget_shopper(conn: asyncpg.Connection, device_id: str) -> None:
    """Erasure: the alerts stay as the store's record of a pickup, without the shopper's name or device;
    the pushes staff got about them keep no text (it named the shopper), and one not yet sent never is."""
    await conn.execute(
        """
        UPDATE notify.messages m
        SET title = NULL, body = NULL,
            status = CASE WHEN m.status IN ('pending', 'held') THEN 'suppressed' ELSE m.status END,
            reason = CASE WHEN m.status IN ('pending', 'held') THEN 'erased' ELSE m.reason END
        FROM notify.alerts a
        WHERE a.device_id = $1 AND m.staff_id IS NOT NULL AND m.event_id = a.event_id
        """,
        device_id,
    )
    await conn.execute("UPDATE notify.alerts SET display_name = NULL, device_id = NULL WHERE device_id = $1", device_id)


async def delete_old_alerts(conn: asyncpg.Connection, before: datetime) -> int:
    status = await conn.execute("DELETE FROM notify.alerts WHERE created_at < $1", before)
    return affected_rows(status)
