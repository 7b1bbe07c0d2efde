"""All of inventory's SQL."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg


async def upsert_product(conn: asyncpg.Connection, sku: str, name: str, category: str, names: dict[str, str]) -> None:
    await conn.execute(
        """
        INSERT INTO inventory.products (sku, name, category, names)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (sku) DO UPDATE
        SET name = excluded.name, category = excluded.category, names = excluded.names, updated_at = now()
        """,
        sku,
        name,
        category,
        names,
    )


async def get_product(conn: asyncpg.Connection, sku: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT sku, name, category, names FROM inventory.products WHERE sku = $1", sku)


async def lock_stock(conn: asyncpg.Connection, store_id: str, sku: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT on_hand, reserved FROM inventory.stock WHERE store_id = $1 AND sku = $2 FOR UPDATE",
        store_id,
        sku,
    )


async def set_on_hand(conn: asyncpg.Connection, store_id: str, sku: str, on_hand: int) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        INSERT INTO inventory.stock (store_id, sku, on_hand)
        VALUES ($1, $2, $3)
        ON CONFLICT (store_id, sku) DO UPDATE SET on_hand = excluded.on_hand, updated_at = now()
        RETURNING on_hand, reserved
        """,
        store_id,
        sku,
        on_hand,
    )


async def record_ledger(
    conn: asyncpg.Connection, store_id: str, sku: str, before: int, after: int, reason: str, actor: str
) -> None:
    await conn.execute(
        """
        INSERT INTO inventory.stock_ledger (store_id, sku, before, after, reason, actor)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        store_id,
        sku,
        before,
        after,
        reason,
        actor,
    )


async def stock_of_store(conn: asyncpg.Connection, store_id: str, skus: Sequence[str] | None) -> list[asyncpg.Record]:
    """Stock rows of a store; with skus, one row per asked SKU (zero where the store has none)."""
    if skus is None:
        return await conn.fetch(
            "SELECT sku, on_hand, reserved FROM inventory.stock WHERE store_id = $1 ORDER BY sku", store_id
        )
    return await conn.fetch(
        """
        SELECT asked.sku, coalesce(s.on_hand, 0) AS on_hand, coalesce(s.reserved, 0) AS reserved
        FROM unnest($2::text[]) WITH ORDINALITY AS asked(sku, ord)
        LEFT JOIN inventory.stock s ON s.store_id = $1 AND s.sku = asked.sku
        ORDER BY asked.ord
        """,
        store_id,
        list(skus),
    )


async def available_products(conn: asyncpg.Connection, store_id: str, exclude_sku: str) -> list[asyncpg.Record]:
    """Every product the store can hand over right now (available > 0), except the one asked about."""
    return await conn.fetch(
        """
        SELECT p.sku, p.name, p.category, p.names, s.on_hand - s.reserved AS available
        FROM inventory.stock s JOIN inventory.products p USING (sku)
        WHERE s.store_id = $1 AND s.sku <> $2 AND s.on_hand - s.reserved > 0
        """,
        store_id,
        exclude_sku,
    )
