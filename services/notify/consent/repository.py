"""The consent feature's SQL: devices, their current consents, and the history kept as proof."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.db import affected_rows, fetch_one
from shared.events import Purpose


async def create_device(conn: asyncpg.Connection, device_id: str, platform: str, locale: str, timezone: str) -> None:
    await conn.execute(
        "INSERT INTO notify.devices (device_id, platform, locale, timezone) VALUES ($1, $2, $3, $4)",
        device_id,
        platform,
        locale,
        timezone,
    )


async def spend_registration(conn: asyncpg.Connection, address_key: bytes) -> tuple[int, datetime]:
    """One more registration from this address in the current hour: how many that makes, and when
    the hour began."""
    row = await fetch_one(
        conn,
        """
        INSERT INTO notify.registration_budgets AS b (address_key, window_start, used)
        VALUES ($1, date_trunc('hour', now()), 1)
        ON CONFLICT (address_key) DO UPDATE
        SET used = CASE WHEN b.window_start = excluded.window_start THEN b.used + 1 ELSE 1 END,
            window_start = excluded.window_start
        RETURNING used, window_start
        """,
        address_key,
    )
    return row["used"], row["window_start"]


async def forget_registration_budgets(conn: asyncpg.Connection, before: datetime) -> int:
    status = await conn.execute("DELETE FROM notify.registration_budgets WHERE window_start < $1", before)
    return affected_rows(status)


async def get_device(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT device_id, platform, locale, timezone, created_at FROM notify.devices WHERE device_id = $1",
        device_id,
    )


async def lock_device_to_erase(conn: asyncpg.Connection, device_id: str) -> bool:
    """Lock the device row against every other lock on it, until the erasure commits; False if there is
    none. Taken before the erasure's clean-up: what a consumer holding the device (lock_device,
    hold_device) writes is committed before the clean-up's statements begin, so they see it; a
    consumer that comes after finds the device gone."""
    locked = await conn.fetchval("SELECT true FROM notify.devices WHERE device_id = $1 FOR UPDATE", device_id)
    return bool(locked)


async def hold_device(conn: asyncpg.Connection, device_id: str) -> bool:
    """Whether notify holds the device (not erased, and registered here), the row then kept from its
    erasure until the transaction ends. FOR KEY SHARE, the lightest lock: it waits only for an erasure
    under way (then finds the row gone) and holds up only an erasure (see lock_device_to_erase)."""
    held = await conn.fetchval(
        "SELECT true FROM notify.devices WHERE device_id = $1 FOR KEY SHARE",
        device_id,
    )
    return bool(held)


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


async def lock_consents(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT location, pickup_updates, offers, product_tips, policy_version, updated_at
        FROM notify.consents WHERE device_id = $1 FOR UPDATE
        """,
        device_id,
    )


async def consenting(conn: asyncpg.Connection, purpose: Purpose, device_ids: list[str]) -> set[str]:
    """Those of these devices whose answer for the purpose is yes, as it is now."""
    rows = await conn.fetch(
        """
        SELECT device_id FROM notify.consents
        WHERE device_id = any($2::text[])
          AND CASE $1
                  WHEN 'location' THEN location
                  WHEN 'pickup_updates' THEN pickup_updates
                  WHEN 'offers' THEN offers
                  WHEN 'product_tips' THEN product_tips
              END
        """,
        purpose,
        device_ids,
    )
    return {r["device_id"] for r in rows}


async def get_consents(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT location, pickup_updates, offers, product_tips, policy_version, updated_at
        FROM notify.consents WHERE device_id = $1
        """,
        device_id,
    )


async def save_consents(
    conn: asyncpg.Connection,
    device_id: str,
    purposes: dict[Purpose, bool],
    policy_version: str,
    shown: str | None,
    user_agent: str | None,
) -> None:
    await conn.execute(
        """
        INSERT INTO notify.consents (device_id, location, pickup_updates, offers, product_tips, policy_version)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (device_id) DO UPDATE
        SET location = excluded.location, pickup_updates = excluded.pickup_updates, offers = excluded.offers,
            product_tips = excluded.product_tips, policy_version = excluded.policy_version, updated_at = now()
        """,
        device_id,
        purposes["location"],
        purposes["pickup_updates"],
        purposes["offers"],
        purposes["product_tips"],
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


async def consent_history(
    conn: asyncpg.Connection, device_id: str, limit: int = 100_000, after: int = 0
) -> list[asyncpg.Record]:
    """The device's answers, oldest first, those after the entry `after`, at most `limit`."""
    return await conn.fetch(
        """
        SELECT id, at, policy_version, purposes, shown, user_agent
        FROM notify.consent_history WHERE device_id = $1 AND id > $3 ORDER BY id LIMIT $2
        """,
        device_id,
        limit,
        after,
    )


async def latest_answer(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT policy_version, purposes, shown FROM notify.consent_history
        WHERE device_id = $1 ORDER BY id DESC LIMIT 1
        """,
        device_id,
    )


async def answers_since(conn: asyncpg.Connection, device_id: str, since: datetime) -> list[datetime]:
    rows = await conn.fetch(
        "SELECT at FROM notify.consent_history WHERE device_id = $1 AND at >= $2 ORDER BY at", device_id, since
    )
    return [r["at"] for r in rows]


async def unconsented_devices(
    conn: asyncpg.Connection, registered_before: datetime, after: tuple[datetime, str] | None, limit: int
) -> list[asyncpg.Record]:
    """Devices registered before then that never answered about consent (an answer, even all no, leaves
    a row in notify.consents), oldest first, those after `after` (created_at, device_id)."""
    return await conn.fetch(
        """
        SELECT d.created_at, d.device_id FROM notify.devices d
        WHERE d.created_at < $1
          AND ($2::timestamptz IS NULL OR (d.created_at, d.device_id) > ($2, $3))
          AND NOT EXISTS (SELECT 1 FROM notify.consents c WHERE c.device_id = d.device_id)
        ORDER BY d.created_at, d.device_id
        LIMIT $4
        """,
        registered_before,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


async def lock_unconsented(conn: asyncpg.Connection, device_id: str, registered_before: datetime) -> bool:
    """Lock the device if it registered before then and has still no consent. The lock comes first and
    the consent is read after it, in a statement of its own: an answer being recorded holds the device
    row (its foreign key) until it commits, so it is seen here, never deleted with the device."""
    created = await conn.fetchval("SELECT created_at FROM notify.devices WHERE device_id = $1 FOR UPDATE", device_id)
    if created is None or created >= registered_before:
        return False
    answered = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM notify.consents WHERE device_id = $1)", device_id)
    return not answered


async def erase_device(conn: asyncpg.Connection, device_id: str, pseudonym: str) -> None:
    """Delete the device (its consents and push subscription go with it, by cascade). The proof of
    consent is kept, as the law requires, under a pseudonym and without the client's user agent."""
    await conn.execute("DELETE FROM notify.devices WHERE device_id = $1", device_id)
    await conn.execute(
        "UPDATE notify.consent_history SET device_id = $2, user_agent = NULL WHERE device_id = $1",
        device_id,
        pseudonym,
    )
