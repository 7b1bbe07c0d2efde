"""The replicas' SQL: notify.stock, notify.products and notify.stores, written only by the replicas'
consumers (each row as of the newest event applied), read by offers and back-in-stock through
service.py."""

from __future__ import annotations

import asyncpg

# --- written by the consumers ---


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


async def apply_store(conn: asyncpg.Connection, store_id: str, name: str, timezone: str, event_id: int) -> bool:
    """The store's name and time zone as of this event, unless the row is already as of a later one."""
    applied = await conn.fetchval(
        """
        INSERT INTO notify.stores (store_id, name, timezone, event_id) VALUES ($1, $2, $3, $4)
        ON CONFLICT (store_id) DO UPDATE
        SET name = excluded.name, timezone = excluded.timezone, event_id = excluded.event_id, updated_at = now()
        WHERE notify.stores.event_id < excluded.event_id
        RETURNING true
        """,
        store_id,
        name,
        timezone,
        event_id,
    )
    return bool(applied)


# --- read by the features ---


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


async def stock_row(conn: asyncpg.Connection, store_id: str, sku: str) -> asyncpg.Record | None:
    """The replica's stock of this product at this store, and the event it is as of."""
    return await conn.fetchrow(
        "SELECT available, event_id FROM notify.stock WHERE store_id = $1 AND sku = $2", store_id, sku
    )


async def product_known(conn: asyncpg.Connection, sku: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM notify.products WHERE sku = $1", sku))


async def store_known(conn: asyncpg.Connection, store_id: str) -> bool:
    """geo published the store (the store replica), or inventory stocks something there."""
    return bool(
        await conn.fetchval(
            """
            SELECT EXISTS (SELECT 1 FROM notify.stores WHERE store_id = $1)
                OR EXISTS (SELECT 1 FROM notify.stock WHERE store_id = $1)
            """,
            store_id,
        )
    )


async def store(conn: asyncpg.Connection, store_id: str) -> asyncpg.Record | None:
    """The store's name (null before the replica knew names) and time zone."""
    return await conn.fetchrow("SELECT name, timezone FROM notify.stores WHERE store_id = $1", store_id)
