"""Stock's SQL: the rows per store and SKU, their ledger, staged imports.

Lock order: stock rows are always locked sorted by (store_id, sku), by the `lock_*` queries below,
before any statement that changes several of them; an order row is locked before its stock rows.
Two transactions therefore never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shared.db import fetch_one


async def lock_stock(conn: asyncpg.Connection, store_id: str, sku: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT on_hand, reserved FROM inventory.stock WHERE store_id = $1 AND sku = $2 FOR UPDATE",
        store_id,
        sku,
    )


async def lock_store_items(conn: asyncpg.Connection, store_id: str, skus: Sequence[str]) -> list[asyncpg.Record]:
    """Lock a store's rows for these SKUs, in SKU order; SKUs the store has no row for are absent."""
    return await conn.fetch(
        """
        SELECT sku, on_hand, reserved FROM inventory.stock
        WHERE store_id = $1 AND sku = ANY ($2::text[])
        ORDER BY store_id, sku
        FOR UPDATE
        """,
        store_id,
        list(skus),
    )


async def lock_items(conn: asyncpg.Connection, store_ids: Sequence[str], skus: Sequence[str]) -> None:
    """Lock the rows of these (store_id, sku) pairs, in (store_id, sku) order."""
    await conn.execute(
        """
        SELECT count(*) FROM (
            SELECT 1 FROM inventory.stock s
            JOIN unnest($1::text[], $2::text[]) AS w(store_id, sku) ON s.store_id = w.store_id AND s.sku = w.sku
            ORDER BY s.store_id, s.sku
            FOR UPDATE OF s
        ) AS locked
        """,
        list(store_ids),
        list(skus),
    )


async def set_on_hand(conn: asyncpg.Connection, store_id: str, sku: str, on_hand: int) -> asyncpg.Record:
    return await fetch_one(
        conn,
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


async def adjust_on_hand(
    conn: asyncpg.Connection, store_id: str, sku: str, delta: int, most: int
) -> asyncpg.Record | None:
    """Add delta to on_hand unless that would leave less than is reserved (or more than `most`); None
    if refused or if the store has no row for the SKU."""
    return await conn.fetchrow(
        """
        UPDATE inventory.stock SET on_hand = on_hand + $3, updated_at = now()
        WHERE store_id = $1 AND sku = $2 AND on_hand + $3 BETWEEN reserved AND $4
        RETURNING on_hand, reserved
        """,
        store_id,
        sku,
        delta,
        most,
    )


async def insert_stock(conn: asyncpg.Connection, store_id: str, sku: str, on_hand: int) -> asyncpg.Record | None:
    """The store's first row for the SKU; None if it has one already (perhaps created a moment ago)."""
    return await conn.fetchrow(
        """
        INSERT INTO inventory.stock (store_id, sku, on_hand) VALUES ($1, $2, $3)
        ON CONFLICT (store_id, sku) DO NOTHING
        RETURNING on_hand, reserved
        """,
        store_id,
        sku,
        on_hand,
    )


async def reserve(
    conn: asyncpg.Connection, store_id: str, skus: Sequence[str], qtys: Sequence[int]
) -> list[asyncpg.Record]:
    """Reserve each line only if the store has that much available: the condition is in the UPDATE
    itself, so no interleaving of concurrent orders can push `available` below zero. Returns the lines
    reserved; the caller rolls back unless that is all of them."""
    return await conn.fetch(
        """
        UPDATE inventory.stock s
        SET reserved = s.reserved + w.qty, updated_at = now()
        FROM unnest($2::text[], $3::int[]) AS w(sku, qty)
        JOIN inventory.products p ON p.sku = w.sku
        WHERE s.store_id = $1 AND s.sku = w.sku AND s.on_hand - s.reserved >= w.qty
        RETURNING s.sku, s.on_hand, s.reserved, w.qty, p.low_stock_threshold
        """,
        store_id,
        list(skus),
        list(qtys),
    )


async def release(
    conn: asyncpg.Connection, store_ids: Sequence[str], skus: Sequence[str], qtys: Sequence[int]
) -> list[asyncpg.Record]:
    """Give reserved units back to `available` (several orders' lines at once: summed per item)."""
    return await conn.fetch(
        """
        UPDATE inventory.stock s
        SET reserved = s.reserved - w.qty, updated_at = now()
        FROM (
            SELECT store_id, sku, sum(qty)::int AS qty
            FROM unnest($1::text[], $2::text[], $3::int[]) AS u(store_id, sku, qty)
            GROUP BY store_id, sku
        ) AS w
        JOIN inventory.products p ON p.sku = w.sku
        WHERE s.store_id = w.store_id AND s.sku = w.sku
        RETURNING s.store_id, s.sku, s.on_hand, s.reserved, w.qty, p.low_stock_threshold
        """,
        list(store_ids),
        list(skus),
        list(qtys),
    )


async def sell(
    conn: asyncpg.Connection,
    store_id: str,
    skus: Sequence[str],
    qtys: Sequence[int],
    *,
    order_id: str,
    actor: str,
) -> list[asyncpg.Record]:
    """The reservation becomes a sale: on_hand and reserved both drop, one ledger line per SKU."""
    return await conn.fetch(
        """
        WITH sold AS (
            UPDATE inventory.stock s
            SET on_hand = s.on_hand - w.qty, reserved = s.reserved - w.qty, updated_at = now()
            FROM unnest($2::text[], $3::int[]) AS w(sku, qty)
            WHERE s.store_id = $1 AND s.sku = w.sku
            RETURNING s.sku, s.on_hand, s.reserved, w.qty
        ), ledger AS (
            INSERT INTO inventory.stock_ledger (store_id, sku, before, after, kind, reason, actor, order_id)
            SELECT $1, sku, on_hand + qty, on_hand, 'sale', 'sale', $4, $5 FROM sold
        )
        SELECT sku, on_hand, reserved, qty FROM sold ORDER BY sku
        """,
        store_id,
        list(skus),
        list(qtys),
        actor,
        order_id,
    )


async def record_ledger(
    conn: asyncpg.Connection,
    store_id: str,
    sku: str,
    before: int,
    after: int,
    *,
    kind: str,
    reason: str,
    actor: str,
) -> None:
    await conn.execute(
        """
        INSERT INTO inventory.stock_ledger (store_id, sku, before, after, kind, reason, actor)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        store_id,
        sku,
        before,
        after,
        kind,
        reason,
        actor,
    )


async def ledger_of(
    conn: asyncpg.Connection, store_id: str, sku: str, before_id: int | None, limit: int
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, at, kind, reason, actor, before, after, order_id
        FROM inventory.stock_ledger
        WHERE store_id = $1 AND sku = $2 AND ($3::bigint IS NULL OR id < $3)
        ORDER BY id DESC
        LIMIT $4
        """,
        store_id,
        sku,
        before_id,
        limit,
    )


async def stock_page(conn: asyncpg.Connection, store_id: str, after: str | None, limit: int) -> list[asyncpg.Record]:
    """A store's stock rows by SKU, those after `after`, at most `limit`."""
    return await conn.fetch(
        """
        SELECT sku, on_hand, reserved FROM inventory.stock
        WHERE store_id = $1 AND ($2::text IS NULL OR sku > $2)
        ORDER BY sku
        LIMIT $3
        """,
        store_id,
        after,
        limit,
    )


async def stock_of(conn: asyncpg.Connection, store_id: str, skus: Sequence[str]) -> list[asyncpg.Record]:
    """One row per asked SKU, in the order asked (zero where the store has none)."""
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


async def available_alike(
    conn: asyncpg.Connection, store_id: str, exclude_sku: str, category: str
) -> list[asyncpg.Record]:
    """The products of a category the store can hand over right now (available > 0), except the one
    asked about: only the category, never the whole catalogue, is ranked."""
    return await conn.fetch(
        """
        SELECT p.sku, p.name, p.category, p.names, s.on_hand - s.reserved AS available
        FROM inventory.stock s JOIN inventory.products p USING (sku)
        WHERE s.store_id = $1 AND s.sku <> $2 AND p.category = $3 AND s.on_hand - s.reserved > 0
        """,
        store_id,
        exclude_sku,
        category,
    )


# ------------------------------------------------------------------------------------------ import

IMPORT_TABLE = "stock_import"


async def stage_import(conn: asyncpg.Connection, records: Sequence[tuple[int, str, str, int]]) -> None:
    """COPY (row number, store_id, sku, on_hand) into a temporary table that lives until the commit."""
    await conn.execute("SET LOCAL work_mem = '64MB'")  # sort 100,000 staged rows in memory, not on disk
    await conn.execute(
        f"""
        CREATE TEMPORARY TABLE {IMPORT_TABLE} (
            row            integer NOT NULL,
            store_id       text NOT NULL,
            sku            text NOT NULL,
            on_hand        integer NOT NULL,
            before_on_hand integer,
            reserved       integer NOT NULL DEFAULT 0
        ) ON COMMIT DROP
        """
    )
    await conn.copy_records_to_table(IMPORT_TABLE, records=records, columns=["row", "store_id", "sku", "on_hand"])
    await conn.execute(f"ANALYZE {IMPORT_TABLE}")  # autovacuum never sees temporary tables: give the planner sizes


async def lock_import(conn: asyncpg.Connection) -> None:
    """Lock the stock rows the import touches (in key order) and note what they hold now."""
    await conn.execute(
        f"""
        SELECT count(*) FROM (
            SELECT 1 FROM inventory.stock s JOIN {IMPORT_TABLE} i USING (store_id, sku)
            ORDER BY s.store_id, s.sku
            FOR UPDATE OF s
        ) AS locked
        """
    )
    await conn.execute(
        f"""
        UPDATE {IMPORT_TABLE} i SET before_on_hand = s.on_hand, reserved = s.reserved
        FROM inventory.stock s
        WHERE s.store_id = i.store_id AND s.sku = i.sku
        """
    )


async def import_problems(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Staged rows that cannot be applied: an unknown SKU, on_hand below what orders hold, or a store
    and SKU given already by an earlier row (`first_row`)."""
    return await conn.fetch(
        f"""
        SELECT row, sku, reserved, known, first_row FROM (
            SELECT i.row, i.sku, i.on_hand, i.reserved, p.sku IS NOT NULL AS known,
                   min(i.row) OVER (PARTITION BY i.store_id, i.sku) AS first_row
            FROM {IMPORT_TABLE} i LEFT JOIN inventory.products p USING (sku)
        ) AS staged
        WHERE NOT known OR on_hand < reserved OR row <> first_row
        ORDER BY row
        """
    )


async def insert_import_rows(conn: asyncpg.Connection) -> bool:
    """Create the rows the stores did not have; False if one appeared since the others were locked (a
    concurrent first stocking), in which case the caller gives up rather than overwrite it unchecked."""
    all_inserted: bool = await conn.fetchval(
        f"""
        WITH missing AS (
            SELECT store_id, sku, on_hand FROM {IMPORT_TABLE} WHERE before_on_hand IS NULL
        ), inserted AS (
            INSERT INTO inventory.stock (store_id, sku, on_hand)
            SELECT store_id, sku, on_hand FROM missing ORDER BY store_id, sku
            ON CONFLICT (store_id, sku) DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM inserted) = (SELECT count(*) FROM missing)
        """
    )
    return all_inserted


async def apply_import(conn: asyncpg.Connection, *, reason: str, actor: str) -> list[asyncpg.Record]:
    """Update the locked rows the import changes and write a ledger line for every changed row (new
    ones included); return the changed rows."""
    return await conn.fetch(
        f"""
        WITH changed AS (
            SELECT store_id, sku, on_hand, before_on_hand, reserved FROM {IMPORT_TABLE}
            WHERE before_on_hand IS DISTINCT FROM on_hand
        ), updated AS (
            UPDATE inventory.stock s SET on_hand = c.on_hand, updated_at = now()
            FROM changed c
            WHERE c.before_on_hand IS NOT NULL AND s.store_id = c.store_id AND s.sku = c.sku
        ), ledger AS (
            INSERT INTO inventory.stock_ledger (store_id, sku, before, after, kind, reason, actor)
            SELECT store_id, sku, coalesce(before_on_hand, 0), on_hand, 'import', $1, $2 FROM changed
        )
        SELECT c.store_id, c.sku, c.on_hand, c.before_on_hand, c.reserved, p.low_stock_threshold
        FROM changed c JOIN inventory.products p USING (sku)
        ORDER BY c.store_id, c.sku
        """,
        reason,
        actor,
    )
