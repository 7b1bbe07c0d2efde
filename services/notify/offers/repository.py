"""The offers feature's SQL: campaigns, and notify's replica of inventory's stock and catalogue."""

from __future__ import annotations

from typing import Any

import asyncpg


async def upsert_campaign(
    conn: asyncpg.Connection, campaign_id: str, trigger: dict[str, Any], sku: str, message: dict[str, Any], active: bool
) -> None:
    await conn.execute(
        """
        INSERT INTO notify.campaigns
            (campaign_id, trigger_type, zone_kind, zone_id, store_id, min_confidence, sku, message, active)
        VALUES ($1, $2, $3, $4, $5, $9, $6, $7, $8)
        ON CONFLICT (campaign_id) DO UPDATE
        SET trigger_type = excluded.trigger_type, zone_kind = excluded.zone_kind, zone_id = excluded.zone_id,
            store_id = excluded.store_id, min_confidence = excluded.min_confidence, sku = excluded.sku,
            message = excluded.message, active = excluded.active, updated_at = now()
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
    )


async def campaigns_for(
    conn: asyncpg.Connection, trigger_type: str, store_id: str | None, zone_id: str | None, zone_kind: str | None
) -> list[asyncpg.Record]:
    """Active campaigns whose trigger matches: every condition the campaign sets must hold."""
    return await conn.fetch(
        """
        SELECT campaign_id, sku, message, min_confidence
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


# --- the stock replica ---


async def apply_stock(
    conn: asyncpg.Connection, store_id: str, sku: str, available: int, on_hand: int, event_id: int
) -> bool:
    """The store's stock of the SKU as of this event, unless the row is already as of a later one
    (a redelivery out of order never goes back in time). True if it was applied."""
    applied = await conn.fetchval(
        """
        INSERT INTO notify.stock (store_id, sku, available, on_hand, event_id) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (store_id, sku) DO UPDATE
        SET available = excluded.available, on_hand = excluded.on_hand, event_id = excluded.event_id,
            updated_at = now()
        WHERE notify.stock.event_id < excluded.event_id
        RETURNING true
        """,
        store_id,
        sku,
        available,
        on_hand,
        event_id,
    )
    return bool(applied)


async def apply_product(
    conn: asyncpg.Connection, sku: str, name: str, category: str, names: dict[str, str], event_id: int
) -> bool:
    """The product as of this event, unless the row is already as of a later one."""
    applied = await conn.fetchval(
        """
        INSERT INTO notify.products (sku, name, category, names, event_id) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (sku) DO UPDATE
        SET name = excluded.name, category = excluded.category, names = excluded.names,
            event_id = excluded.event_id, updated_at = now()
        WHERE notify.products.event_id < excluded.event_id
        RETURNING true
        """,
        sku,
        name,
        category,
        names,
        event_id,
    )
    return bool(applied)


async def product_at(conn: asyncpg.Connection, store_id: str, sku: str) -> asyncpg.Record | None:
    """The product with what the store can hand over (0 without a stock row); None if unknown."""
    return await conn.fetchrow(
        """
        SELECT p.sku, p.name, p.category, p.names, coalesce(s.available, 0) AS available
        FROM notify.products p
        LEFT JOIN notify.stock s ON s.store_id = $1 AND s.sku = p.sku
        WHERE p.sku = $2
        """,
        store_id,
        sku,
    )


async def available_products(conn: asyncpg.Connection, store_id: str, exclude_sku: str) -> list[asyncpg.Record]:
    """Every known product the store can hand over right now (available > 0), except the one asked about."""
    return await conn.fetch(
        """
        SELECT p.sku, p.name, p.category, p.names, s.available
        FROM notify.stock s JOIN notify.products p ON p.sku = s.sku
        WHERE s.store_id = $1 AND s.sku <> $2 AND s.available > 0
        """,
        store_id,
        exclude_sku,
    )


async def availability(conn: asyncpg.Connection, store_ids: list[str], skus: list[str]) -> dict[tuple[str, str], int]:
    """What each store can hand over of each SKU, for the products the replica knows (0 without a
    stock row); an unknown product is absent from the answer."""
    rows = await conn.fetch(
        """
        SELECT asked.store_id, asked.sku, coalesce(s.available, 0) AS available
        FROM unnest($1::text[], $2::text[]) AS asked (store_id, sku)
        JOIN notify.products p ON p.sku = asked.sku
        LEFT JOIN notify.stock s ON s.store_id = asked.store_id AND s.sku = asked.sku
        """,
        store_ids,
        skus,
    )
    return {(r["store_id"], r["sku"]): r["available"] for r in rows}
