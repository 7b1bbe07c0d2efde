"""All of notify's SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

SEND_CHANNEL = "accueil_notify_send"
"""NOTIFY channel: a message became due (the senders also poll, in case a wake-up is missed)."""


async def create_device(conn: asyncpg.Connection, device_id: str, platform: str, locale: str, timezone: str) -> None:
    await conn.execute(
        "INSERT INTO notify.devices (device_id, platform, locale, timezone) VALUES ($1, $2, $3, $4)",
        device_id,
        platform,
        locale,
        timezone,
    )


async def get_device(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT device_id, platform, locale, timezone, created_at FROM notify.devices WHERE device_id = $1",
        device_id,
    )


async def lock_consents(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT location, pickup_updates, offers, policy_version, updated_at
        FROM notify.consents WHERE device_id = $1 FOR UPDATE
        """,
        device_id,
    )


async def get_consents(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT location, pickup_updates, offers, policy_version, updated_at
        FROM notify.consents WHERE device_id = $1
        """,
        device_id,
    )


async def save_consents(
    conn: asyncpg.Connection,
    device_id: str,
    purposes: dict[str, bool],
    policy_version: str,
    shown: str | None,
    user_agent: str | None,
) -> None:
    await conn.execute(
        """
        INSERT INTO notify.consents (device_id, location, pickup_updates, offers, policy_version)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (device_id) DO UPDATE
        SET location = excluded.location, pickup_updates = excluded.pickup_updates, offers = excluded.offers,
            policy_version = excluded.policy_version, updated_at = now()
        """,
        device_id,
        purposes["location"],
        purposes["pickup_updates"],
        purposes["offers"],
        policy_version,
    )
    await conn.execute(
        """
        INSERT INTO notify.consent_history (device_id, policy_version, purposes, shown, user_agent)
        VALUES ($1, $2, $3, $4, $5)
        """,
        device_id,
        policy_version,
        purposes,
        shown,
        user_agent,
    )


async def consent_history(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT at, policy_version, purposes, shown, user_agent
        FROM notify.consent_history WHERE device_id = $1 ORDER BY id
        """,
        device_id,
    )


async def upsert_campaign(
    conn: asyncpg.Connection, campaign_id: str, trigger: dict[str, Any], sku: str, message: dict[str, Any], active: bool
) -> None:
    await conn.execute(
        """
        INSERT INTO notify.campaigns (campaign_id, trigger_type, zone_kind, zone_id, store_id, sku, message, active)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (campaign_id) DO UPDATE
        SET trigger_type = excluded.trigger_type, zone_kind = excluded.zone_kind, zone_id = excluded.zone_id,
            store_id = excluded.store_id, sku = excluded.sku, message = excluded.message,
            active = excluded.active, updated_at = now()
        """,
        campaign_id,
        trigger["type"],
        trigger.get("zone_kind"),
        trigger.get("zone_id"),
        trigger.get("store_id"),
        sku,
        message,
        active,
    )


async def get_campaign(conn: asyncpg.Connection, campaign_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT campaign_id, trigger_type, zone_kind, zone_id, store_id, sku, message, active
        FROM notify.campaigns WHERE campaign_id = $1
        """,
        campaign_id,
    )


async def campaigns_for(
    conn: asyncpg.Connection, trigger_type: str, store_id: str | None, zone_id: str | None, zone_kind: str | None
) -> list[asyncpg.Record]:
    """Active campaigns whose trigger matches: every condition the campaign sets must hold."""
    return await conn.fetch(
        """
        SELECT campaign_id, sku, message
        FROM notify.campaigns
        WHERE active AND trigger_type = $1
          AND (store_id IS NULL OR store_id = $2)
          AND (zone_id IS NULL OR zone_id = $3)
          AND (zone_kind IS NULL OR zone_kind = $4)
        ORDER BY campaign_id
        """,
        trigger_type,
        store_id,
        zone_id,
        zone_kind,
    )


async def lock_device(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    """The device row, locked until the transaction ends: decisions about one device are taken one at a
    time, so two events racing cannot both fit under a frequency cap. (NO KEY UPDATE: saving a push
    subscription, which only references the row, does not wait for it.)"""
    return await conn.fetchrow(
        """
        SELECT device_id, platform, locale, timezone FROM notify.devices WHERE device_id = $1
        FOR NO KEY UPDATE
        """,
        device_id,
    )


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


async def record_message(
    conn: asyncpg.Connection,
    *,
    device_id: str,
    event_id: int,
    campaign_id: str,
    purpose: str,
    status: str,
    reason: str | None,
    store_id: str | None,
    zone_id: str | None,
    sku: str | None,
    locale: str | None,
    title: str | None,
    body: str | None,
    topic: str,
    send_after: datetime | None,
    ttl_s: int,
) -> bool:
    """Record a decision once; False if this (event, device, campaign) was already decided.
    A pending message is due at once and wakes the senders when the transaction commits."""
    inserted = await conn.fetchval(
        """
        INSERT INTO notify.messages
            (device_id, event_id, campaign_id, purpose, status, reason, store_id, zone_id, sku, locale, title, body,
             topic, send_after, next_attempt_at, expires_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                CASE WHEN $5 = 'pending' THEN now() END,
                CASE WHEN $5 = 'pending' THEN now() + make_interval(secs => $15) END)
        ON CONFLICT (event_id, device_id, campaign_id) DO NOTHING
        RETURNING true
        """,
        device_id,
        event_id,
        campaign_id,
        purpose,
        status,
        reason,
        store_id,
        zone_id,
        sku,
        locale,
        title,
        body,
        topic,
        send_after,
        ttl_s,
    )
    if inserted and status == "pending":
        await wake_senders(conn)
    return bool(inserted)


async def wake_senders(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_notify($1, '')", SEND_CHANNEL)


async def messages_of(conn: asyncpg.Connection, device_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, event_id, campaign_id, purpose, status, reason, store_id, zone_id, sku, locale, title, body,
               decided_at, send_after, sent_at, attempts
        FROM notify.messages WHERE device_id = $1 ORDER BY id DESC LIMIT $2
        """,
        device_id,
        limit,
    )


# --- push subscriptions ---


async def save_subscription(
    conn: asyncpg.Connection, device_id: str, endpoint: str, p256dh: str, auth: str
) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        INSERT INTO notify.push_subscriptions (device_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)
        ON CONFLICT (device_id) DO UPDATE
        SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth, updated_at = now()
        RETURNING endpoint, created_at, updated_at
        """,
        device_id,
        endpoint,
        p256dh,
        auth,
    )


async def has_subscription(conn: asyncpg.Connection, device_id: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM notify.push_subscriptions WHERE device_id = $1", device_id))


async def delete_subscription(conn: asyncpg.Connection, device_id: str, endpoint: str | None = None) -> bool:
    """Forget the device's subscription; with `endpoint`, only if it is still that one (the push
    service said it is gone, and the device may have subscribed anew meanwhile)."""
    deleted = await conn.fetchval(
        """
        DELETE FROM notify.push_subscriptions
        WHERE device_id = $1 AND ($2::text IS NULL OR endpoint = $2)
        RETURNING true
        """,
        device_id,
        endpoint,
    )
    return bool(deleted)


# --- VAPID keys ---


async def vapid_keys(conn: asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT private_key, public_key FROM notify.vapid_keys")


async def offer_vapid_keys(conn: asyncpg.Connection, private_key: str, public_key: str) -> asyncpg.Record:
    """Store this pair unless another replica stored one first; return the pair everyone uses."""
    await conn.execute(
        "INSERT INTO notify.vapid_keys (private_key, public_key) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        private_key,
        public_key,
    )
    return await vapid_keys(conn)


# --- delivery ---


async def due_messages(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Pending messages that are due, with the device's subscription, locked for this sender only."""
    return await conn.fetch(
        """
        SELECT m.id, m.device_id, m.purpose, m.locale, m.title, m.body, m.store_id, m.sku, m.topic,
               m.expires_at, m.attempts, s.endpoint, s.p256dh, s.auth
        FROM notify.messages m LEFT JOIN notify.push_subscriptions s ON s.device_id = m.device_id
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
) -> None:
    """What the push service answered; written even if the attempt was presumed interrupted meanwhile:
    the real outcome is better knowledge."""
    await conn.execute(
        """
        UPDATE notify.delivery_attempts
        SET finished_at = now(), outcome = $2, status_code = $3, retry_after_s = $4, error = $5
        WHERE id = $1
        """,
        attempt_id,
        outcome,
        status_code,
        retry_after_s,
        error,
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
    return await conn.fetchval(
        """
        SELECT least((SELECT min(next_attempt_at) FROM notify.messages WHERE status = 'pending'),
                     (SELECT min(lease_until) FROM notify.messages WHERE status = 'sending'))
        """
    )


async def attempts_of(conn: asyncpg.Connection, message_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT attempt, push_origin, started_at, finished_at, outcome, status_code, retry_after_s, error
        FROM notify.delivery_attempts WHERE message_id = $1 ORDER BY attempt
        """,
        message_id,
    )


# --- quiet hours ---


async def held_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, device_id, purpose, store_id, send_after FROM notify.messages
        WHERE status = 'held' AND send_after <= $1
        ORDER BY send_after, id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
        """,
        now,
        limit,
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
    if ids:
        await wake_senders(conn)


async def drop_held(conn: asyncpg.Connection, ids: list[int]) -> None:
    await conn.execute(
        """
        UPDATE notify.messages
        SET status = 'suppressed', reason = 'quiet_hours', locale = NULL, title = NULL, body = NULL
        WHERE id = ANY ($1::bigint[]) AND status = 'held'
        """,
        ids,
    )
