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
    order_id: str | None = None,
) -> bool:
    """Record a decision once; False if this (event, device, campaign) was already decided.
    A pending message is due at once and wakes the senders when the transaction commits."""
    inserted = await conn.fetchval(
        """
        INSERT INTO notify.messages
            (device_id, event_id, campaign_id, purpose, status, reason, store_id, zone_id, sku, locale, title, body,
             topic, send_after, next_attempt_at, expires_at, order_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                CASE WHEN $5 = 'pending' THEN now() END,
                CASE WHEN $5 = 'pending' THEN now() + make_interval(secs => $15) END,
                $16)
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
        order_id,
    )
    if inserted and status == "pending":
        await wake_senders(conn)
    return bool(inserted)


async def wake_senders(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_notify($1, '')", SEND_CHANNEL)


async def messages_of(conn: asyncpg.Connection, device_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, event_id, campaign_id, purpose, status, reason, store_id, zone_id, sku, order_id, locale, title,
               body, decided_at, send_after, sent_at, attempts
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
    """Pending messages that are due, with their recipient's subscription (the device's, or the staff
    member's), locked for this sender only."""
    return await conn.fetch(
        """
        SELECT m.id, m.device_id, m.staff_id, m.purpose, m.locale, m.title, m.body, m.store_id, m.sku, m.order_id,
               m.topic, m.expires_at, m.attempts,
               coalesce(s.endpoint, ss.endpoint) AS endpoint, coalesce(s.p256dh, ss.p256dh) AS p256dh,
               coalesce(s.auth, ss.auth) AS auth,
               -- the shopper's consent for the purpose as it is now: it may have been withdrawn since
               -- the decision (an offer held through quiet hours, a retry after a failure)
               m.device_id IS NULL OR coalesce(
                   CASE m.purpose WHEN 'offers' THEN c.offers WHEN 'pickup_updates' THEN c.pickup_updates END, false
               ) AS consented
        FROM notify.messages m
        LEFT JOIN notify.push_subscriptions s ON s.device_id = m.device_id
        LEFT JOIN notify.staff_push_subscriptions ss ON ss.staff_id = m.staff_id
        LEFT JOIN notify.consents c ON c.device_id = m.device_id
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


# --- quiet hours ---


async def held_due(conn: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, device_id, purpose, store_id, sku, send_after FROM notify.messages
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


# --- privacy: export, erasure, retention ---


async def subscription_of(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    """The device's push subscription, without its keys (they are secrets, not information)."""
    return await conn.fetchrow(
        "SELECT endpoint, created_at FROM notify.push_subscriptions WHERE device_id = $1", device_id
    )


async def erase_device(conn: asyncpg.Connection, device_id: str, pseudonym: str) -> None:
    """Delete what notify holds about a device. The proof of consent is kept, as the law requires,
    under a pseudonym and without the client's user agent."""
    await conn.execute("DELETE FROM notify.messages WHERE device_id = $1", device_id)
    # Staff alerts stay as the store's record of a pickup, without the shopper's name or device.
    await conn.execute("UPDATE notify.alerts SET display_name = NULL, device_id = NULL WHERE device_id = $1", device_id)
    await conn.execute("DELETE FROM notify.devices WHERE device_id = $1", device_id)  # consents, subscription
    await conn.execute(
        "UPDATE notify.consent_history SET device_id = $2, user_agent = NULL WHERE device_id = $1",
        device_id,
        pseudonym,
    )


async def create_erasure(
    conn: asyncpg.Connection, erasure_id: str, subject: str, device_id: str, pending: list[str]
) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        INSERT INTO notify.erasures (erasure_id, subject, device_id, pending) VALUES ($1, $2, $3, $4)
        RETURNING erasure_id, pending, requested_at, completed_at
        """,
        erasure_id,
        subject,
        device_id,
        pending,
    )


async def erasure_of_subject(conn: asyncpg.Connection, subject: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT erasure_id, pending, requested_at, completed_at FROM notify.erasures
        WHERE subject = $1 ORDER BY requested_at DESC LIMIT 1
        """,
        subject,
    )


async def get_erasure(conn: asyncpg.Connection, erasure_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT erasure_id, pending, requested_at, completed_at FROM notify.erasures WHERE erasure_id = $1",
        erasure_id,
    )


async def confirm_erasure(conn: asyncpg.Connection, erasure_id: str, service: str) -> asyncpg.Record | None:
    """Strike a service off; when none is left the request is complete. Returns the device id once,
    at completion (and forgets it), so the caller can clear what remains elsewhere."""
    return await conn.fetchrow(
        """
        WITH before AS (SELECT device_id FROM notify.erasures WHERE erasure_id = $1 FOR UPDATE)
        UPDATE notify.erasures e
        SET pending = array_remove(e.pending, $2),
            completed_at = CASE WHEN array_remove(e.pending, $2) = '{}' THEN coalesce(e.completed_at, now()) END,
            device_id = CASE WHEN array_remove(e.pending, $2) = '{}' THEN NULL ELSE e.device_id END
        FROM before
        WHERE e.erasure_id = $1
        RETURNING e.completed_at IS NOT NULL AND before.device_id IS NOT NULL AS just_completed,
                  before.device_id
        """,
        erasure_id,
        service,
    )


async def alerts_about(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    """Staff alerts about the device's pickups (what staff were told about its arrival)."""
    return await conn.fetch(
        """
        SELECT alert_id, store_id, order_id, kind, display_name, bay, eta_s, created_at, acked_at, closed_at
        FROM notify.alerts WHERE device_id = $1 ORDER BY alert_id
        """,
        device_id,
    )


async def delete_old_alerts(conn: asyncpg.Connection, before: datetime) -> int:
    status = await conn.execute("DELETE FROM notify.alerts WHERE created_at < $1", before)
    return int(status.split()[-1])


async def delete_old_messages(conn: asyncpg.Connection, before: datetime) -> int:
    """The message log (and its delivery attempts, by cascade) past its retention."""
    status = await conn.execute(
        "DELETE FROM notify.messages WHERE decided_at < $1 AND status NOT IN ('pending', 'sending', 'held')", before
    )
    return int(status.split()[-1])


# --- staff ---


async def create_staff(
    conn: asyncpg.Connection, staff_id: str, store_id: str, name: str, locale: str
) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        INSERT INTO notify.staff (staff_id, store_id, name, locale) VALUES ($1, $2, $3, $4)
        RETURNING staff_id, store_id, name, locale, created_at
        """,
        staff_id,
        store_id,
        name,
        locale,
    )


async def get_staff(conn: asyncpg.Connection, staff_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT st.staff_id, st.store_id, st.name, st.locale, st.created_at, s.staff_id IS NOT NULL AS push
        FROM notify.staff st LEFT JOIN notify.staff_push_subscriptions s ON s.staff_id = st.staff_id
        WHERE st.staff_id = $1
        """,
        staff_id,
    )


async def save_staff_subscription(
    conn: asyncpg.Connection, staff_id: str, endpoint: str, p256dh: str, auth: str
) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        INSERT INTO notify.staff_push_subscriptions (staff_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)
        ON CONFLICT (staff_id) DO UPDATE
        SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth, updated_at = now()
        RETURNING endpoint, created_at, updated_at
        """,
        staff_id,
        endpoint,
        p256dh,
        auth,
    )


async def delete_staff_subscription(conn: asyncpg.Connection, staff_id: str, endpoint: str | None = None) -> bool:
    """Like delete_subscription, for a staff member's device."""
    deleted = await conn.fetchval(
        """
        DELETE FROM notify.staff_push_subscriptions
        WHERE staff_id = $1 AND ($2::text IS NULL OR endpoint = $2)
        RETURNING true
        """,
        staff_id,
        endpoint,
    )
    return bool(deleted)


async def staff_to_push(conn: asyncpg.Connection, store_id: str) -> list[asyncpg.Record]:
    """The store's staff who enabled push, with the language their alerts are written in."""
    return await conn.fetch(
        """
        SELECT st.staff_id, st.locale
        FROM notify.staff st JOIN notify.staff_push_subscriptions s ON s.staff_id = st.staff_id
        WHERE st.store_id = $1
        ORDER BY st.staff_id
        """,
        store_id,
    )


async def record_staff_messages(
    conn: asyncpg.Connection,
    *,
    event_id: int,
    store_id: str,
    order_id: str | None,
    topic: str,
    ttl_s: int,
    staff_ids: list[str],
    locales: list[str],
    titles: list[str],
    bodies: list[str],
) -> int:
    """A staff alert's Web Push to each of these staff members, due now; once per (event, staff member)."""
    if not staff_ids:
        return 0
    status = await conn.execute(
        """
        INSERT INTO notify.messages
            (staff_id, event_id, purpose, status, store_id, order_id, locale, title, body, topic,
             next_attempt_at, expires_at)
        SELECT r.staff_id, $1, 'staff_alerts', 'pending', $2, $3, r.locale, r.title, r.body, $4,
               now(), now() + make_interval(secs => $5)
        FROM unnest($6::text[], $7::text[], $8::text[], $9::text[]) AS r (staff_id, locale, title, body)
        ON CONFLICT (event_id, staff_id) WHERE staff_id IS NOT NULL DO NOTHING
        """,
        event_id,
        store_id,
        order_id,
        topic,
        ttl_s,
        staff_ids,
        locales,
        titles,
        bodies,
    )
    inserted = int(status.split()[-1])
    if inserted:
        await wake_senders(conn)
    return inserted


# --- staff alerts ---

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
    """The trip's alert for this step, unless it exists already (a redelivered event) or the trip has
    moved past it (an `approaching` retried after the arrival, or after the trip ended)."""
    await _take_positions(conn)
    return await conn.fetchrow(
        f"""
        WITH pos AS (SELECT nextval('notify.alert_seq') AS seq)
        INSERT INTO notify.alerts
            (store_id, trip_id, order_id, device_id, kind, display_name, bay, mode, eta_s, distance_m, event_id, at,
             created_seq, seq)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, pos.seq, pos.seq
        FROM pos
        WHERE $5 = 'arrived' OR NOT EXISTS (
            SELECT 1 FROM notify.alerts
            WHERE trip_id = $2 AND (kind = 'arrived' OR closed_at IS NOT NULL)
        )
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
    return await conn.fetchval("SELECT coalesce(max(seq), 0) FROM notify.alerts WHERE store_id = $1", store_id)
