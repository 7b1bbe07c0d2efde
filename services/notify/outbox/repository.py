"""The outbox's SQL: the message log, and every recipient's push target (a Web Push subscription or a
native app's device token)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.notify.outbox.messages import Addressee, Outgoing
from services.notify.push.channel import Target
from shared.db import fetch_one, fetch_value

SEND_CHANNEL = "accueil_notify_send"
"""NOTIFY channel: a message became due (the senders also poll, in case a wake-up is missed)."""


# --- the message log ---


async def insert_messages(conn: asyncpg.Connection, messages: Sequence[Outgoing]) -> list[str]:
    """Record decisions, each once: one already recorded for its (event, device, campaign) or (event,
    staff member), or a second live answer to one back-in-stock request, is left as it is. Returns the
    statuses of those inserted."""
    if not messages:
        return []
    rows = await conn.fetch(
        """
        INSERT INTO notify.messages
            (device_id, staff_id, event_id, campaign_id, purpose, status, reason, store_id, zone_id, sku, order_id,
             locale, title, body, topic, send_after, next_attempt_at, expires_at, request_id)
        SELECT CASE WHEN m.kind = 'device' THEN m.recipient END, CASE WHEN m.kind = 'staff' THEN m.recipient END,
               m.event_id, m.campaign_id, m.purpose, m.status, m.reason, m.store_id, m.zone_id, m.sku, m.order_id,
               m.locale, m.title, m.body, m.topic, m.send_after,
               CASE WHEN m.status = 'pending' THEN now() END,
               CASE WHEN m.status = 'pending' THEN now() + make_interval(secs => m.ttl_s) END, m.request_id
        FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                    $16::timestamptz[], $17::int[], $18::bigint[])
             WITH ORDINALITY AS m (kind, recipient, event_id, campaign_id, purpose, status, reason, store_id, zone_id,
                                   sku, order_id, locale, title, body, topic, send_after, ttl_s, request_id, ord)
        ORDER BY m.ord
        ON CONFLICT DO NOTHING
        RETURNING status
        """,
        [m.to.kind for m in messages],
        [m.to.id for m in messages],
        [m.event_id for m in messages],
        [m.campaign_id for m in messages],
        [m.kind.purpose for m in messages],
        [m.status for m in messages],
        [m.reason for m in messages],
        [m.store_id for m in messages],
        [m.zone_id for m in messages],
        [m.sku for m in messages],
        [m.order_id for m in messages],
        [m.locale for m in messages],
        [m.title for m in messages],
        [m.body for m in messages],
        [m.topic for m in messages],
        [m.send_after for m in messages],
        [m.kind.ttl_s for m in messages],
        [m.request_id for m in messages],
    )
    return [r["status"] for r in rows]


async def wake_senders(conn: asyncpg.Connection) -> None:
    """On commit, every replica's sender looks for due messages."""
    await conn.execute("SELECT pg_notify($1, '')", SEND_CHANNEL)


async def recent_messages(conn: asyncpg.Connection, device_id: str, days: int) -> list[asyncpg.Record]:
    """Messages that were or may be said to the device lately: what caps and duplicates count."""
    return await conn.fetch(
        """
        SELECT event_id, purpose, store_id, sku, decided_at
        FROM notify.messages
        WHERE device_id = $1 AND status <> 'suppressed' AND decided_at > now() - make_interval(days => $2)
        ORDER BY id
        """,
        device_id,
        days,
    )


async def messages_of(conn: asyncpg.Connection, device_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, event_id, campaign_id, request_id, purpose, status, reason, store_id, zone_id, sku, order_id,
               locale, title, body, decided_at, send_after, sent_at, attempts
        FROM notify.messages WHERE device_id = $1 ORDER BY id DESC LIMIT $2
        """,
        device_id,
        limit,
    )


async def delete_messages_of(conn: asyncpg.Connection, device_id: str) -> None:
    """Erasure: the device's messages and their delivery attempts (by cascade)."""
    await conn.execute("DELETE FROM notify.messages WHERE device_id = $1", device_id)


async def delete_old_messages(conn: asyncpg.Connection, before: datetime) -> int:
    """The message log (and its delivery attempts, by cascade) past its retention."""
    status = await conn.execute(
        "DELETE FROM notify.messages WHERE decided_at < $1 AND status NOT IN ('pending', 'sending', 'held')", before
    )
    return int(status.split()[-1])


# --- delivery ---


async def due_messages(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Pending messages that are due, with their recipient's push target, locked for this sender only.
    Whether each may still be said is asked of its kind next (kinds.py), in the same transaction."""
    return await conn.fetch(
        """
        SELECT m.id, r.kind AS recipient_kind, r.id AS recipient_id, m.device_id, m.request_id, m.purpose, m.locale,
               m.title, m.body, m.store_id, m.sku, m.order_id, m.topic, m.expires_at, m.attempts,
               t.provider, t.address, t.p256dh, t.auth, t.environment
        FROM notify.messages m
        CROSS JOIN LATERAL (
            SELECT CASE WHEN m.device_id IS NOT NULL THEN 'device' ELSE 'staff' END AS kind,
                   coalesce(m.device_id, m.staff_id) AS id
        ) r
        LEFT JOIN notify.push_targets t ON t.recipient_kind = r.kind AND t.recipient_id = r.id
        WHERE m.status = 'pending' AND m.next_attempt_at <= now()
        ORDER BY m.next_attempt_at, m.id
        LIMIT $1
        FOR UPDATE OF m SKIP LOCKED
        """,
        limit,
    )


async def start_sending(
    conn: asyncpg.Connection, ids: list[int], origins: list[str], lease_s: float
) -> dict[int, asyncpg.Record]:
    """Mark the messages `sending` under a lease and open an attempt row for each; by message id."""
    rows = await conn.fetch(
        """
        WITH claimed AS (
            UPDATE notify.messages
            SET status = 'sending', attempts = attempts + 1, lease_until = now() + make_interval(secs => $3)
            WHERE id = ANY ($1::bigint[])
            RETURNING id, attempts
        )
        INSERT INTO notify.delivery_attempts (message_id, attempt, push_origin)
        SELECT c.id, c.attempts, o.origin
        FROM claimed c JOIN unnest($1::bigint[], $2::text[]) AS o (id, origin) ON o.id = c.id
        RETURNING id, message_id, attempt
        """,
        ids,
        origins,
        lease_s,
    )
    return {r["message_id"]: r for r in rows}


async def fail_messages(conn: asyncpg.Connection, ids: list[int], reasons: list[str]) -> None:
    await conn.execute(
        """
        UPDATE notify.messages m SET status = 'failed', reason = r.reason, lease_until = NULL
        FROM unnest($1::bigint[], $2::text[]) AS r (id, reason)
        WHERE m.id = r.id
        """,
        ids,
        reasons,
    )


async def finish_attempt(
    conn: asyncpg.Connection,
    attempt_id: int,
    outcome: str,
    status_code: int | None,
    retry_after_s: float | None,
    error: str | None,
    answered_at: datetime,
) -> None:
    """What the push service answered, and when: the same instant the next attempt's wait is counted
    from. Written even if the attempt was presumed interrupted meanwhile: the real outcome is better
    knowledge."""
    await conn.execute(
        """
        UPDATE notify.delivery_attempts
        SET finished_at = $6, outcome = $2, status_code = $3, retry_after_s = $4, error = $5
        WHERE id = $1
        """,
        attempt_id,
        outcome,
        status_code,
        retry_after_s,
        error,
        answered_at,
    )


async def settle_message(
    conn: asyncpg.Connection,
    message_id: int,
    attempt: int,
    status: str,
    reason: str | None,
    next_attempt_at: datetime | None,
) -> bool:
    """Record the attempt's result on the message, unless the lease was lost (another sender then owns it)."""
    updated = await conn.fetchval(
        """
        UPDATE notify.messages
        SET status = $3, reason = $4, next_attempt_at = $5, lease_until = NULL,
            sent_at = CASE WHEN $3 = 'sent' THEN now() END
        WHERE id = $1 AND status = 'sending' AND attempts = $2
        RETURNING true
        """,
        message_id,
        attempt,
        status,
        reason,
        next_attempt_at,
    )
    return bool(updated)


async def recover_expired_leases(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Messages whose sender died mid-send. Whether the push service got the request is unknown, so
    the message is sent once more with the same Topic (a copy still queued there is replaced, and the
    device's notification tag replaces one already shown); after a second crash, or once its moment
    has passed, it is failed as `uncertain_after_crash` rather than risk saying it again."""
    return await conn.fetch(
        """
        WITH expired AS (
            UPDATE notify.messages
            SET status = CASE WHEN crash_resends = 0 AND expires_at > now() THEN 'pending' ELSE 'failed' END,
                reason = CASE WHEN crash_resends = 0 AND expires_at > now() THEN NULL
                              ELSE 'uncertain_after_crash' END,
                crash_resends = crash_resends + 1,
                next_attempt_at = now(),
                lease_until = NULL
            WHERE status = 'sending' AND lease_until < now()
            RETURNING id, attempts, status
        ), interrupted AS (
            UPDATE notify.delivery_attempts a
            SET outcome = 'interrupted', finished_at = now()
            FROM expired e
            WHERE a.message_id = e.id AND a.attempt = e.attempts AND a.finished_at IS NULL
        )
        SELECT id, status FROM expired
        """
    )


async def next_due(conn: asyncpg.Connection) -> datetime | None:
    """When the senders next have something to do: a retry falling due or a lease running out."""
    return await fetch_value(
        conn,
        datetime,
        """
        SELECT least((SELECT min(next_attempt_at) FROM notify.messages WHERE status = 'pending'),
                     (SELECT min(lease_until) FROM notify.messages WHERE status = 'sending'))
        """,
    )


# --- held through quiet hours ---


async def held_due(conn: asyncpg.Connection, purpose: str, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Held messages of the purpose whose quiet hours are over, oldest first (read only: see lock_held)."""
    return await conn.fetch(
        """
        SELECT id, device_id, purpose, store_id, sku, request_id, send_after FROM notify.messages
        WHERE status = 'held' AND purpose = $1 AND send_after <= $2
        ORDER BY send_after, id
        LIMIT $3
        """,
        purpose,
        now,
        limit,
    )


async def lock_held(conn: asyncpg.Connection, ids: list[int]) -> list[asyncpg.Record]:
    """Those of these messages still held, locked until the transaction ends."""
    return await conn.fetch(
        """
        SELECT id, device_id, purpose, store_id, sku, request_id, send_after FROM notify.messages
        WHERE id = any($1::bigint[]) AND status = 'held'
        ORDER BY id
        FOR UPDATE
        """,
        ids,
    )


async def release_held(conn: asyncpg.Connection, ids: list[int], ttls_s: list[int]) -> None:
    """Quiet hours are over and the moment is still there: due now, worth sending for its TTL."""
    await conn.execute(
        """
        UPDATE notify.messages m
        SET status = 'pending', reason = NULL, next_attempt_at = now(),
            expires_at = now() + make_interval(secs => r.ttl)
        FROM unnest($1::bigint[], $2::int[]) AS r (id, ttl)
        WHERE m.id = r.id AND m.status = 'held'
        """,
        ids,
        ttls_s,
    )


async def suppress_messages(conn: asyncpg.Connection, ids: list[int], reasons: list[str]) -> None:
    """Messages that will not be sent after all (held or pending), with the reason; their text goes."""
    await conn.execute(
        """
        UPDATE notify.messages m
        SET status = 'suppressed', reason = r.reason, locale = NULL, title = NULL, body = NULL
        FROM unnest($1::bigint[], $2::text[]) AS r (id, reason)
        WHERE m.id = r.id AND m.status IN ('held', 'pending')
        """,
        ids,
        reasons,
    )


# --- push targets: one per recipient, a shopper's device or a staff member ---


async def recipient_exists(conn: asyncpg.Connection, to: Addressee) -> bool:
    return bool(
        await conn.fetchval(
            """
            SELECT CASE $1
                WHEN 'device' THEN EXISTS (SELECT 1 FROM notify.devices WHERE device_id = $2)
                WHEN 'staff' THEN EXISTS (SELECT 1 FROM notify.staff WHERE staff_id = $2 AND removed_at IS NULL)
            END
            """,
            to.kind,
            to.id,
        )
    )


async def save_target(conn: asyncpg.Connection, to: Addressee, target: Target) -> asyncpg.Record:
    """A new target, of any provider, replaces the recipient's last one (one device per recipient)."""
    return await fetch_one(
        conn,
        """
        INSERT INTO notify.push_targets (recipient_kind, recipient_id, provider, address, p256dh, auth, environment)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (recipient_kind, recipient_id) DO UPDATE
        SET provider = excluded.provider, address = excluded.address, p256dh = excluded.p256dh,
            auth = excluded.auth, environment = excluded.environment, updated_at = now()
        RETURNING provider, address, environment, created_at, updated_at
        """,
        to.kind,
        to.id,
        target.provider,
        target.address,
        target.p256dh,
        target.auth,
        target.environment,
    )


async def has_target(conn: asyncpg.Connection, to: Addressee) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM notify.push_targets WHERE recipient_kind = $1 AND recipient_id = $2",
            to.kind,
            to.id,
        )
    )


async def target_of(conn: asyncpg.Connection, to: Addressee) -> asyncpg.Record | None:
    """The recipient's target, without Web Push keys (they are secrets, not information)."""
    return await conn.fetchrow(
        """
        SELECT provider, address, environment, created_at, updated_at FROM notify.push_targets
        WHERE recipient_kind = $1 AND recipient_id = $2
        """,
        to.kind,
        to.id,
    )


async def delete_target(conn: asyncpg.Connection, to: Addressee, providers: Sequence[str] | None = None) -> bool:
    """Forget the recipient's target; with `providers`, only if it is one of theirs (a native app
    removing its token leaves a Web Push subscription made since alone)."""
    deleted = await conn.fetchval(
        """
        DELETE FROM notify.push_targets
        WHERE recipient_kind = $1 AND recipient_id = $2 AND ($3::text[] IS NULL OR provider = ANY ($3))
        RETURNING true
        """,
        to.kind,
        to.id,
        providers,
    )
    return bool(deleted)


async def delete_dead_target(
    conn: asyncpg.Connection, to: Addressee, address: str, gone_since: datetime | None
) -> bool:
    """The push service said this target is gone: forget it if it is still the recipient's, unless it
    was set again after the push service saw it go (APNs' 410 timestamp: the app registered anew)."""
    deleted = await conn.fetchval(
        """
        DELETE FROM notify.push_targets
        WHERE recipient_kind = $1 AND recipient_id = $2 AND address = $3
          AND ($4::timestamptz IS NULL OR updated_at <= $4)
        RETURNING true
        """,
        to.kind,
        to.id,
        address,
        gone_since,
    )
    return bool(deleted)


# --- engagement: what the device reports about a message it was shown ---


async def message_for_device(conn: asyncpg.Connection, message_id: int, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, status, sent_at FROM notify.messages WHERE id = $1 AND device_id = $2 FOR SHARE",
        message_id,
        device_id,
    )


async def record_message_event(
    conn: asyncpg.Connection, message_id: int, type_: str, ts: datetime
) -> asyncpg.Record | None:
    """The event as first recorded for this message and type, and whether it is this one; None when a
    concurrent report recorded it, committed after this statement began (so it cannot see that row)."""
    return await conn.fetchrow(
        """
        WITH new AS (
            INSERT INTO notify.message_events (message_id, type, ts) VALUES ($1, $2, $3)
            ON CONFLICT (message_id, type) DO NOTHING RETURNING ts
        )
        SELECT ts, true AS counted FROM new
        UNION ALL
        SELECT ts, false FROM notify.message_events
        WHERE message_id = $1 AND type = $2 AND NOT EXISTS (SELECT 1 FROM new)
        """,
        message_id,
        type_,
        ts,
    )
