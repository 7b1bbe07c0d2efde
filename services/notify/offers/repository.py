"""The offers feature's SQL: campaigns, their results, and notify's record of the pickup orders results
attribute to offers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg

from shared.db import affected_rows, fetch_one


async def upsert_campaign(
    conn: asyncpg.Connection,
    campaign_id: str,
    trigger: dict[str, Any],
    sku: str,
    message: dict[str, Any],
    active: bool,
    schedule: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        """
        INSERT INTO notify.campaigns
            (campaign_id, trigger_type, zone_kind, zone_id, store_id, min_confidence, sku, message, active, schedule)
        VALUES ($1, $2, $3, $4, $5, $9, $6, $7, $8, $10)
        ON CONFLICT (campaign_id) DO UPDATE
        SET trigger_type = excluded.trigger_type, zone_kind = excluded.zone_kind, zone_id = excluded.zone_id,
            store_id = excluded.store_id, min_confidence = excluded.min_confidence, sku = excluded.sku,
            message = excluded.message, active = excluded.active, schedule = excluded.schedule, updated_at = now()
        """,
        campaign_id,
        trigger["type"],
        trigger.get("zone_kind"),
        trigger.get("zone_id"),
        trigger.get("store_id"),
        sku,
        message,
        active,
        trigger.get("min_confidence"),
        schedule,
    )


async def campaigns_for(
    conn: asyncpg.Connection, trigger_type: str, store_id: str | None, zone_id: str | None, zone_kind: str | None
) -> list[asyncpg.Record]:
    """Campaigns not ended (paused ones too: their decision says so) whose trigger matches: every
    condition the campaign sets must hold."""
    return await conn.fetch(
        """
        SELECT campaign_id, sku, message, min_confidence, active, schedule
        FROM notify.campaigns
        WHERE ended_at IS NULL AND trigger_type = $1
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


# --- campaigns: lifecycle and results ---

CAMPAIGN_COLUMNS = """campaign_id, trigger_type, zone_kind, zone_id, store_id, min_confidence, sku, message, active,
    schedule, ended_at"""


async def get_campaign(conn: asyncpg.Connection, campaign_id: str, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {CAMPAIGN_COLUMNS} FROM notify.campaigns WHERE campaign_id = $1{' FOR UPDATE' if lock else ''}",
        campaign_id,
    )


async def list_campaigns(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(f"SELECT {CAMPAIGN_COLUMNS} FROM notify.campaigns ORDER BY campaign_id")


async def end_campaign(conn: asyncpg.Connection, campaign_id: str) -> bool:
    """True if it was running (or paused) and is now ended."""
    ended = await conn.fetchval(
        """
        UPDATE notify.campaigns SET ended_at = now(), active = false, updated_at = now()
        WHERE campaign_id = $1 AND ended_at IS NULL RETURNING true
        """,
        campaign_id,
    )
    return bool(ended)


async def campaign_counts(
    conn: asyncpg.Connection, campaign_id: str, sku: str, since: datetime, until: datetime
) -> asyncpg.Record:
    """Decided, sent, shown, clicked and alternatives among the campaign's messages decided in the window."""
    return await fetch_one(
        conn,
        """
        WITH m AS (
            SELECT id, status, sku FROM notify.messages
            WHERE campaign_id = $1 AND decided_at >= $3 AND decided_at <= $4
        ), e AS (
            SELECT count(*) FILTER (WHERE type = 'shown') AS shown, count(*) FILTER (WHERE type = 'clicked') AS clicked
            FROM notify.message_events WHERE message_id IN (SELECT id FROM m)
        )
        SELECT count(*) AS decided,
               count(*) FILTER (WHERE status = 'sent') AS sent,
               count(*) FILTER (WHERE status = 'sent' AND sku IS DISTINCT FROM $2) AS alternatives,
               (SELECT shown FROM e) AS shown, (SELECT clicked FROM e) AS clicked
        FROM m
        """,
        campaign_id,
        sku,
        since,
        until,
    )


async def suppressed_by_reason(
    conn: asyncpg.Connection, campaign_id: str, since: datetime, until: datetime
) -> dict[str, int]:
    rows = await conn.fetch(
        """
        SELECT coalesce(reason, 'unknown') AS reason, count(*) AS n FROM notify.messages
        WHERE campaign_id = $1 AND decided_at >= $2 AND decided_at <= $3 AND status = 'suppressed'
        GROUP BY 1 ORDER BY 1
        """,
        campaign_id,
        since,
        until,
    )
    return {r["reason"]: r["n"] for r in rows}


async def attributed_orders(
    conn: asyncpg.Connection, campaign_id: str, since: datetime, until: datetime, window: timedelta
) -> asyncpg.Record:
    """Orders placed by the device of a sent offer, at its store, within `window` after it was sent,
    with the product the message offered; each order and each of its lines counted once."""
    return await fetch_one(
        conn,
        """
        WITH hits AS (
            SELECT DISTINCT l.order_id, l.sku, l.qty
            FROM notify.messages m
            JOIN notify.orders o ON o.device_id = m.device_id AND o.store_id = m.store_id
                 AND o.placed_at >= m.sent_at AND o.placed_at <= m.sent_at + $4::interval
            JOIN notify.order_lines l ON l.order_id = o.order_id AND l.sku = m.sku
            WHERE m.campaign_id = $1 AND m.decided_at >= $2 AND m.decided_at <= $3 AND m.status = 'sent'
        )
        SELECT count(DISTINCT order_id) AS orders, coalesce(sum(qty), 0)::bigint AS units FROM hits
        """,
        campaign_id,
        since,
        until,
        window,
    )


# --- the record of pickup orders, from inventory's order.reserved ---


async def record_order(
    conn: asyncpg.Connection,
    order_id: str,
    device_id: str,
    store_id: str,
    placed_at: datetime,
    lines: list[tuple[str, int]],
    event_id: int,
) -> bool:
    """The order as placed, once (a redelivered order.reserved records nothing)."""
    new = await conn.fetchval(
        """
        INSERT INTO notify.orders (order_id, device_id, store_id, placed_at, event_id) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (order_id) DO NOTHING RETURNING true
        """,
        order_id,
        device_id,
        store_id,
        placed_at,
        event_id,
    )
    if new:
        await conn.execute(
            """
            INSERT INTO notify.order_lines (order_id, sku, qty)
            SELECT $1, sku, sum(qty) FROM unnest($2::text[], $3::int[]) AS l (sku, qty) GROUP BY sku
            """,
            order_id,
            [sku for sku, _ in lines],
            [qty for _, qty in lines],
        )
    return bool(new)


async def forget_orders_of(conn: asyncpg.Connection, device_id: str) -> None:
    """Erasure: the device's order records (their lines by cascade)."""
    await conn.execute("DELETE FROM notify.orders WHERE device_id = $1", device_id)


async def delete_old_orders(conn: asyncpg.Connection, before: datetime) -> int:
    """Order records past the message retention: no offer they could be attributed to is left."""
    status = await conn.execute("DELETE FROM notify.orders WHERE placed_at < $1", before)
    return affected_rows(status)
