"""The catalogue's SQL."""

from __future__ import annotations

import asyncpg

from shared.db import fetch_one

_PRODUCT_COLUMNS = "sku, name, category, names, low_stock_threshold"


async def get_product(conn: asyncpg.Connection, sku: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_PRODUCT_COLUMNS} FROM inventory.products WHERE sku = $1", sku)


async def search_products(conn: asyncpg.Connection, query: str, after: str | None, limit: int) -> list[asyncpg.Record]:
    """Products whose SKU starts with `query` or whose name, in any language, contains it (case aside),
    by SKU, a page at a time. `query` is matched as text: LIKE's wildcards in it are escaped."""
    pattern = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return await conn.fetch(
        f"""
        SELECT {_PRODUCT_COLUMNS}
        FROM inventory.products p
        WHERE ($2::text IS NULL OR p.sku > $2)
          AND (
              p.sku ILIKE $1 || '%'
              OR p.name ILIKE '%' || $1 || '%'
              OR EXISTS (SELECT 1 FROM jsonb_each_text(p.names) AS n WHERE n.value ILIKE '%' || $1 || '%')
          )
        ORDER BY p.sku
        LIMIT $3
        """,
        pattern,
        after,
        limit,
    )


async def lock_product(conn: asyncpg.Connection, sku: str) -> asyncpg.Record | None:
    """The product as it is before a change, locked until the commit so that no other change slips in
    between what is compared and what is written. NO KEY: stock rows and order lines that refer to the
    product (their foreign key checks) are not held up by a renaming."""
    return await conn.fetchrow(
        f"SELECT {_PRODUCT_COLUMNS} FROM inventory.products WHERE sku = $1 FOR NO KEY UPDATE", sku
    )


async def upsert_product(
    conn: asyncpg.Connection,
    sku: str,
    name: str,
    category: str,
    names: dict[str, str],
    low_stock_threshold: int | None,
) -> asyncpg.Record:
    return await fetch_one(
        conn,
        f"""
        INSERT INTO inventory.products (sku, name, category, names, low_stock_threshold)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (sku) DO UPDATE
        SET name = excluded.name, category = excluded.category, names = excluded.names,
            low_stock_threshold = excluded.low_stock_threshold, updated_at = now()
        RETURNING {_PRODUCT_COLUMNS}
        """,
        sku,
        name,
        category,
        names,
        low_stock_threshold,
    )
