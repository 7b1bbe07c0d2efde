"""The outbox's SQL: the message log, and every recipient's push target (a Web Push subscription or a
native app's device token)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import msgspec

from services.notify.outbox.messages import Addressee, Outgoing
from services.notify.push.channel import Target
from shared.db import affected_rows, fetch_one, fetch_value

SEND_CHANNEL = "accueil_notify_send"
"""NOTIFY channel: a message became due (the senders also poll, in case a wake-up is missed)."""


# --- the message log ---


async def insert_messages(conn: asyncpg.Connection, messages: Sequence[Outgoing]) -> list[str]:
    """Record decisions, each once: one already recorded for its (event, device, campaign), its (event,
    staff member) or its (journey enrollment, step), or a second live answer to one back-in-stock
    request, is left as it is. Returns the statuses of those inserted."""
    if not messages:
        return []
    rows = await conn.fetch(
        """
        INSERT INTO notify.messages
            (device_id, staff_id, event_id, campaign_id, purpose, status, reason, store_id, zone_id, sku, order_id,
             locale, title, body, topic, send_after, next_attempt_at, expires_at, request_id, journey_id,
             journey_step, enrollment_id, why)
        SELECT CASE WHEN m.kind = 'device' THEN m.recipient END, CASE WHEN m.kind = 'staff' THEN m.recipient END,
               m.event_id, m.campaign_id, m.purpose, m.status, m.reason, m.store_id, m.zone_id, m.sku, m.order_id,
               m.locale, m.title, m.body, m.topic, m.send_after,
               CASE WHEN m.status = 'pending' THEN now() END,
               CASE WHEN m.status = 'pending' THEN now() + make_interval(secs => m.ttl_s) END, m.request_id,
               m.journey_id, m.journey_step, m.enrollment_id, m.why::jsonb
        FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
                    $16::timestamptz[], $17::int[], $18::bigint[], $19::text[], $20::text[], $21::bigint[], $22::text[])
             WITH ORDINALITY AS m (kind, recipient, event_id, campaign_id, purpose, status, reason, store_id, zone_id,
                                   sku, order_id, locale, title, body, topic, send_after, ttl_s, request_id,
                                   journey_id, journey_step, enrollment_id, why, ord)
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
        [m.journey_id for m in messages],
        [m.journey_step for m in messages],
        [m.enrollment_id for m in messages],
        # As JSON text, cast in the statement: an array of jsonb does not take Python objects.
        [None if m.why is None else msgspec.json.encode(m.why).decode() for m in messages],
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
        SELECT id, event_id, campaign_id, request_id, journey_id, journey_step AS step, purpose, status, reason,
               store_id, zone_id, sku, order_id, locale, title, body, why, decided_at, send_after, sent_at, attempts
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
    return affected_rows(status)


# --- delivery ---


async def due_messages(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Pending messages that are due, oldest first, with their recipient's push target, locked for this
    sender only. Whether each may still be said is asked of its kind next (kinds.py), in the same
    transaction.

    A batch is read off the messages_due index in its order, whatever the backlog. Statistics taken
    when few messages were pending (before a campaign started, say) make the planner expect a handful
    and choose to sort every due message instead, once per batch: sorting is switched off for this
    one statement."""
    await conn.execute("SET LOCAL enable_sort = off")
    rows = await conn.fetch(
        """
        WITH m AS (
            SELECT id, device_id, staff_id, request_id, purpose, locale, title, body, why, store_id, sku, order_id,
                   topic, expires_at, attempts
            FROM notify.messages
            WHERE status = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at, id
            LIMIT $1
            FOR UPDATE SKIP LOCKED
        )
        SELECT m.id, r.kind AS recipient_kind, r.id AS recipient_id, m.device_id, m.request_id, m.purpose, m.locale,
               m.title, m.body, m.why, m.store_id, m.sku, m.order_id, m.topic, m.expires_at, m.attempts,
               t.provider, t.address, t.p256dh, t.auth, t.environment
        FROM m
        CROSS JOIN LATERAL (
            SELECT CASE WHEN m.device_id IS NOT NULL THEN 'device' ELSE 'staff' END AS kind,
                   coalesce(m.device_id, m.staff_id) AS id
        ) r
        LEFT JOIN notify.push_targets t ON t.recipient_kind = r.kind AND t.recipient_id = r.id
        """,
        limit,
    )
    await conn.execute("RESET enable_sort")
    return rows


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


@dataclass(frozen=True)
class Answered:
    """What one attempt came to, as it is recorded: on its attempt row, and on its message."""

    attempt_id: int
    message_id: int
    attempt: int
    """The message's attempt count when it was claimed: its lease, as the message row knows it."""
    outcome: str
    status_code: int | None
    retry_after_s: float | None
    error: str | None
    answered_at: datetime
    """When the push service answered: the same instant the next attempt's wait is counted from."""
    status: str
    """The message's next status: sent, pending (a retry at next_attempt_at) or failed."""
    reason: str | None
    next_attempt_at: datetime | None


async def record_answers(conn: asyncpg.Connection, answers: Sequence[Answered]) -> set[int]:
    """Record what the push services answered, in one statement; return the ids of the messages settled.

    A message is settled only if it is still `sending` under the lease its attempt was claimed with:
    a sender that lost its lease (presumed dead, the message resent by another) leaves the other's
    result alone. The attempt row is written even then: the real outcome is better knowledge than
    `interrupted`."""
    rows = await conn.fetch(
        """
        WITH answer AS (
            SELECT *
            FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[], $5::int[], $6::float8[], $7::text[],
                        $8::timestamptz[], $9::text[], $10::text[], $11::timestamptz[])
                 AS a (attempt_id, message_id, attempt, outcome, status_code, retry_after_s, error, answered_at,
                       status, reason, next_attempt_at)
        ), settled AS (
            UPDATE notify.messages m
            SET status = a.status, reason = a.reason, next_attempt_at = a.next_attempt_at, lease_until = NULL,
                sent_at = CASE WHEN a.status = 'sent' THEN now() END
            FROM answer a
            WHERE m.id = a.message_id AND m.status = 'sending' AND m.attempts = a.attempt
            RETURNING m.id
        ), finished AS (
            UPDATE notify.delivery_attempts d
            SET finished_at = a.answered_at, outcome = a.outcome, status_code = a.status_code,
                retry_after_s = a.retry_after_s, error = a.error
            FROM answer a
            WHERE d.id = a.attempt_id
        )
        SELECT id FROM settled
        """,
        [a.attempt_id for a in answers],
        [a.message_id for a in answers],
        [a.attempt for a in answers],
        [a.outcome for a in answers],
        [a.status_code for a in answers],
        [a.retry_after_s for a in answers],
        [a.error for a in answers],
        [a.answered_at for a in answers],
        [a.status for a in answers],
        [a.reason for a in answers],
        [a.next_attempt_at for a in answers],
    )
    return {r["id"] for r in rows}


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
        SET status = 'suppressed', reason = r.reason, locale = NULL, title = NULL, body = NULL, why = NULL
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


@dataclass(frozen=True)
class DeadTarget:
    """A target its push service said is gone (404/410, an unregistered token)."""

    to: Addressee
    address: str
    gone_since: datetime | None
    """APNs' 410 timestamp: when the token stopped being valid."""


async def delete_dead_targets(conn: asyncpg.Connection, dead: Sequence[DeadTarget]) -> None:
    """Forget each target if it is still its recipient's, unless it was set again after the push
    service saw it go (APNs' 410 timestamp: the app registered anew)."""
    await conn.execute(
        """
        DELETE FROM notify.push_targets t
        USING unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
              AS d (recipient_kind, recipient_id, address, gone_since)
        WHERE t.recipient_kind = d.recipient_kind AND t.recipient_id = d.recipient_id AND t.address = d.address
          AND (d.gone_since IS NULL OR t.updated_at <= d.gone_since)
        """,
        [d.to.kind for d in dead],
        [d.to.id for d in dead],
        [d.address for d in dead],
        [d.gone_since for d in dead],
    )


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
