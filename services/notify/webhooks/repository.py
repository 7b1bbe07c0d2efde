"""The webhooks' SQL: registrations, deliveries (one per webhook and event) and the attempt log."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared import bus
from shared.db import affected_rows, fetch_one, fetch_value

WEBHOOK_CHANNEL = "accueil_notify_webhooks"
"""NOTIFY channel: deliveries were queued (the senders also poll, in case a wake-up is missed)."""

# --- registrations ---


async def save_webhook(
    conn: asyncpg.Connection, webhook_id: str, url: str, events: list[str], sealed_secret: bytes
) -> tuple[asyncpg.Record, bool]:
    """Create the webhook, or change its URL and events (its secret is kept). Returns it and whether it is new."""
    row = await fetch_one(
        conn,
        """
        INSERT INTO notify.webhooks (webhook_id, url, events, sealed_secret) VALUES ($1, $2, $3, $4)
        ON CONFLICT (webhook_id) DO UPDATE SET url = excluded.url, events = excluded.events, updated_at = now()
        RETURNING webhook_id, url, events, created_at, updated_at, (xmax = 0) AS created
        """,
        webhook_id,
        url,
        events,
        sealed_secret,
    )
    return row, bool(row["created"])


async def webhooks(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT webhook_id, url, events, created_at, updated_at FROM notify.webhooks ORDER BY webhook_id"
    )


async def webhook(conn: asyncpg.Connection, webhook_id: str, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT webhook_id, url, events, created_at, updated_at FROM notify.webhooks
        WHERE webhook_id = $1{" FOR UPDATE" if lock else ""}
        """,
        webhook_id,
    )


async def delete_webhook(conn: asyncpg.Connection, webhook_id: str) -> bool:
    """Its pending deliveries and its log go with it (by cascade)."""
    return bool(await conn.fetchval("DELETE FROM notify.webhooks WHERE webhook_id = $1 RETURNING true", webhook_id))


# --- fan-out ---


async def queue_deliveries(
    conn: asyncpg.Connection, event_type: str, event_id: int, event_ts: datetime, device_id: str | None, payload: str
) -> int:
    """One delivery of the event to each webhook subscribed to its type, each at most once."""
    status = await conn.execute(
        """
        INSERT INTO notify.webhook_deliveries (webhook_id, event_id, event_type, event_ts, device_id, payload)
        SELECT webhook_id, $2, $1, $3, $4, $5 FROM notify.webhooks WHERE $1 = any(events)
        ON CONFLICT (webhook_id, event_id) DO NOTHING
        """,
        event_type,
        event_id,
        event_ts,
        device_id,
        payload,
    )
    return affected_rows(status)


async def wake_senders(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_notify($1, '')", WEBHOOK_CHANNEL)


# --- secrets at rest ---


async def lock_unsealed_secrets(conn: asyncpg.Connection, current_prefix: bytes) -> list[asyncpg.Record]:
    """Webhooks whose secret is in clear (`secret`, as stored before secrets were sealed) or sealed
    under an older key version (a sealed value begins with its version, big-endian: `current_prefix` is
    the current one's), locked until sealed again. A replica that waited for another's locks finds them
    sealed and skips them."""
    return await conn.fetch(
        """
        SELECT webhook_id, sealed_secret, secret FROM notify.webhooks
        WHERE secret IS NOT NULL OR substring(sealed_secret FOR 4) < $1
        ORDER BY webhook_id
        FOR UPDATE
        """,
        current_prefix,
    )


async def seal_secrets(conn: asyncpg.Connection, sealed: list[tuple[str, bytes]]) -> None:
    """(webhook id, its secret sealed under the current version): the clear text goes."""
    await conn.executemany("UPDATE notify.webhooks SET sealed_secret = $2, secret = NULL WHERE webhook_id = $1", sealed)


# --- delivery ---


async def recover_expired_leases(conn: asyncpg.Connection) -> int:
    """Deliveries whose sender died mid-send: sent again, with the same webhook-id (receivers dedupe on it)."""
    status = await conn.execute(
        """
        UPDATE notify.webhook_deliveries SET status = 'pending', lease_until = NULL, next_attempt_at = now()
        WHERE status = 'sending' AND lease_until < now()
        """
    )
    return affected_rows(status)


async def claim_due(conn: asyncpg.Connection, limit: int, lease_s: float) -> list[asyncpg.Record]:
    """Due deliveries, each the earliest still open for its (webhook, device): a device's later event
    waits for the earlier ones. Locked for this sender, marked sending under a lease."""
    return await conn.fetch(
        """
        WITH due AS (
            SELECT d.id FROM notify.webhook_deliveries d
            WHERE d.status = 'pending' AND d.next_attempt_at <= now()
              AND NOT EXISTS (
                  SELECT 1 FROM notify.webhook_deliveries e
                  WHERE e.webhook_id = d.webhook_id AND e.device_id = d.device_id
                    AND e.status IN ('pending', 'sending') AND e.event_id < d.event_id)
            ORDER BY d.event_id
            LIMIT $1
            FOR UPDATE OF d SKIP LOCKED
        )
        UPDATE notify.webhook_deliveries d
        SET status = 'sending', attempts = d.attempts + 1, lease_until = now() + make_interval(secs => $2)
        FROM due, notify.webhooks w
        WHERE d.id = due.id AND w.webhook_id = d.webhook_id
        RETURNING d.id, d.webhook_id, d.event_id, d.event_ts, d.device_id, d.payload, d.attempts, w.url,
                  w.sealed_secret, w.secret
        """,
        limit,
        lease_s,
    )


async def settle(
    conn: asyncpg.Connection,
    delivery: asyncpg.Record,
    status: str,
    next_attempt_at: datetime | None,
    status_code: int | None,
    error: str | None,
) -> None:
    """The attempt goes on the log; the delivery is done, or waits for its retry."""
    await conn.execute(
        """
        INSERT INTO notify.webhook_attempts
            (webhook_id, event_id, device_id, attempt, status_code, error, next_retry_at)
        SELECT webhook_id, event_id, device_id, $2, $3, $4, $5 FROM notify.webhook_deliveries
        WHERE id = $1 AND status = 'sending' AND attempts = $2
        """,
        delivery["id"],
        delivery["attempts"],
        status_code,
        error,
        next_attempt_at,
    )
    await conn.execute(
        """
        UPDATE notify.webhook_deliveries
        SET status = $3, lease_until = NULL, next_attempt_at = coalesce($4, next_attempt_at),
            payload = CASE WHEN $3 = 'pending' THEN payload END
        WHERE id = $1 AND status = 'sending' AND attempts = $2
        """,
        delivery["id"],
        delivery["attempts"],
        status,
        next_attempt_at,
    )


async def next_due(conn: asyncpg.Connection) -> datetime | None:
    return await fetch_value(
        conn,
        datetime,
        """
        SELECT least((SELECT min(next_attempt_at) FROM notify.webhook_deliveries WHERE status = 'pending'),
                     (SELECT min(lease_until) FROM notify.webhook_deliveries WHERE status = 'sending'))
        """,
    )


async def attempts_of(conn: asyncpg.Connection, webhook_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT a.event_id, a.attempt, a.status_code, a.error, a.at, a.next_retry_at, d.status
        FROM notify.webhook_attempts a
        LEFT JOIN notify.webhook_deliveries d ON d.webhook_id = a.webhook_id AND d.event_id = a.event_id
        WHERE a.webhook_id = $1
        ORDER BY a.id DESC LIMIT $2
        """,
        webhook_id,
        limit,
    )


# --- retention and erasure ---


async def delete_old(conn: asyncpg.Connection, before: datetime) -> int:
    """Finished deliveries and logged attempts past the message retention (pending ones are given up
    within a day, so none is left behind)."""
    deliveries = await conn.execute(
        "DELETE FROM notify.webhook_deliveries WHERE event_ts < $1 AND status IN ('delivered', 'failed')", before
    )
    attempts = await conn.execute("DELETE FROM notify.webhook_attempts WHERE at < $1", before)
    return affected_rows(deliveries) + affected_rows(attempts)


_EVENT_DATA = "(payload::jsonb -> 'data' -> 'data')"
"""The event's own `data` in a body (`{"type", "timestamp", "data": <the event>}`, retry.body_of)."""


async def blank_personal(conn: asyncpg.Connection, before: datetime) -> int:
    """The bodies still to be sent of trip and order events from before then, without the shopper's
    name, distance and ETA, by the event log's own rule (shared.bus): a copy keeps them no longer than
    the log does. Only a delivery pending or in a sender's hands still has a body (settle clears it)."""
    status = await conn.execute(
        f"""
        UPDATE notify.webhook_deliveries
        SET payload = jsonb_set(payload::jsonb, '{{data,data}}', {bus.without_personal(_EVENT_DATA)})::text
        WHERE status IN ('pending', 'sending') AND event_ts < $1
          AND {bus.holds_personal("event_type", _EVENT_DATA)}
        """,
        before,
    )
    return affected_rows(status)


async def delete_of_device(conn: asyncpg.Connection, device_id: str) -> None:
    """Erasure: the device's deliveries (pending ones hold its events) and their log."""
    await conn.execute("DELETE FROM notify.webhook_deliveries WHERE device_id = $1", device_id)
    await conn.execute("DELETE FROM notify.webhook_attempts WHERE device_id = $1", device_id)
