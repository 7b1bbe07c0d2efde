"""All of notify's SQL."""

from __future__ import annotations

from typing import Any

import asyncpg


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
    sku: str | None,
    locale: str | None,
    title: str | None,
    body: str | None,
) -> bool:
    """Record a decision once; False if this (event, device, campaign) was already decided."""
    inserted = await conn.fetchval(
        """
        INSERT INTO notify.messages
            (device_id, event_id, campaign_id, purpose, status, reason, store_id, sku, locale, title, body)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
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
        sku,
        locale,
        title,
        body,
    )
    return bool(inserted)


async def messages_of(conn: asyncpg.Connection, device_id: str, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, event_id, campaign_id, purpose, status, reason, store_id, sku, locale, title, body, decided_at
        FROM notify.messages WHERE device_id = $1 ORDER BY id DESC LIMIT $2
        """,
        device_id,
        limit,
    )
