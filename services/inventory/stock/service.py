"""Stock's use cases: each opens its transaction, writes the rows and their ledger lines, and
publishes the events of the change in that same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from services.inventory.catalog import repository as catalog
from services.inventory.catalog.schemas import MAX_QUANTITY
from services.inventory.context import InventoryContext
from services.inventory.stock import repository as repo
from services.inventory.stock.availability import stock_events
from services.inventory.stock.importing import Parsed, RowError
from services.inventory.stock.schemas import (
    Alternative,
    AlternativeList,
    ImportResult,
    Ledger,
    LedgerEntry,
    StockItem,
    StockList,
)
from shared import audit, bus
from shared.alternatives import Candidate, rank
from shared.errors import Conflict, Invalid, NotFound


def _stock_item(sku: str, row: asyncpg.Record) -> StockItem:
    return StockItem(
        sku=sku, on_hand=row["on_hand"], reserved=row["reserved"], available=row["on_hand"] - row["reserved"]
    )


async def _product_or_404(conn: asyncpg.Connection, sku: str) -> asyncpg.Record:
    product = await catalog.get_product(conn, sku)
    if product is None:
        raise NotFound(f"unknown sku {sku!r}: create the product first", field="sku")
    return product


async def set_on_hand(
    ctx: InventoryContext, store_id: str, sku: str, on_hand: int, *, reason: str, actor: str
) -> StockItem:
    async with ctx.db.transaction() as conn:
        product = await _product_or_404(conn, sku)
        current = await repo.lock_stock(conn, store_id, sku)
        if current is not None and on_hand < current["reserved"]:
            raise Conflict(
                f"on_hand {on_hand} is below the {current['reserved']} unit(s) reserved for orders",
                field="on_hand",
                reserved=current["reserved"],
            )
        try:
            row = await repo.set_on_hand(conn, store_id, sku, on_hand)
        except asyncpg.CheckViolationError as exc:  # a reservation landed between our read and write
            raise Conflict("on_hand is below what is reserved for orders", field="on_hand") from exc
        before_on_hand = current["on_hand"] if current else 0
        if current is None or before_on_hand != on_hand:
            await repo.record_ledger(
                conn, store_id, sku, before_on_hand, on_hand, kind="set", reason=reason, actor=actor
            )
        before_available = current["on_hand"] - current["reserved"] if current else None
        await ctx.publish(
            conn,
            stock_events(
                store_id,
                sku,
                before_available,
                row["on_hand"] - row["reserved"],
                row["on_hand"],
                product["low_stock_threshold"],
                datetime.now(UTC),
            ),
        )
        await audit.record(conn, ctx.service, current and _stock_item(sku, current), _stock_item(sku, row))
    return _stock_item(sku, row)


async def adjust(ctx: InventoryContext, store_id: str, sku: str, delta: int, *, reason: str, actor: str) -> StockItem:
    """A relative change (a delivery of +12, a breakage of -1), refused if it would leave less on hand
    than orders hold: the check is part of the UPDATE, so it holds against concurrent reservations."""
    async with ctx.db.transaction() as conn:
        product = await _product_or_404(conn, sku)
        first = False
        row = await repo.adjust_on_hand(conn, store_id, sku, delta, MAX_QUANTITY)
        if row is None and delta > 0 and await repo.lock_stock(conn, store_id, sku) is None:
            # The store has no row yet; another request may create it meanwhile.
            row = await repo.insert_stock(conn, store_id, sku, delta)
            first = row is not None
            row = row or await repo.adjust_on_hand(conn, store_id, sku, delta, MAX_QUANTITY)
        if row is None:
            current = await repo.lock_stock(conn, store_id, sku)
            on_hand, reserved = (current["on_hand"], current["reserved"]) if current else (0, 0)
            if on_hand + delta > MAX_QUANTITY:
                raise Invalid(f"on_hand would exceed {MAX_QUANTITY}", field="delta", on_hand=on_hand)
            raise Conflict(
                f"cannot remove {-delta}: {on_hand} on hand, {reserved} of them reserved for orders",
                field="delta",
                on_hand=on_hand,
                reserved=reserved,
            )
        before_on_hand = row["on_hand"] - delta
        await repo.record_ledger(
            conn, store_id, sku, before_on_hand, row["on_hand"], kind="adjustment", reason=reason, actor=actor
        )
        await ctx.publish(
            conn,
            stock_events(
                store_id,
                sku,
                None if first else before_on_hand - row["reserved"],
                row["on_hand"] - row["reserved"],
                row["on_hand"],
                product["low_stock_threshold"],
                datetime.now(UTC),
            ),
        )
        before = (
            None
            if first
            else StockItem(
                sku=sku, on_hand=before_on_hand, reserved=row["reserved"], available=before_on_hand - row["reserved"]
            )
        )
        await audit.record(conn, ctx.service, before, _stock_item(sku, row))
    return _stock_item(sku, row)


async def import_rows(ctx: InventoryContext, parsed: Parsed, *, actor: str) -> ImportResult:
    """Apply a whole import or nothing. Rows are staged with COPY and checked against the database
    (unknown SKUs, on_hand below what orders hold, one item twice) before anything is written, so one
    answer lists every bad row; then stock, ledger and events are written set-based."""
    async with ctx.db.transaction() as conn:
        await repo.stage_import(conn, parsed.records)
        await repo.lock_import(conn)
        errors = list(parsed.errors)
        for p in await repo.import_problems(conn):
            if p["row"] != p["first_row"]:
                errors.append(RowError(p["row"], "sku", f"same store_id and sku as row {p['first_row']}"))
            elif not p["known"]:
                errors.append(RowError(p["row"], "sku", f"unknown sku {p['sku']!r}: create the product first"))
            else:
                errors.append(RowError(p["row"], "on_hand", f"below the {p['reserved']} unit(s) reserved for orders"))
        if errors:
            raise Invalid(
                f"{len(errors)} bad row(s); nothing was imported",
                field="rows",
                errors=[{"row": e.row, "field": e.field, "reason": e.reason} for e in sorted(errors)],
            )
        if not await repo.insert_import_rows(conn):
            raise Conflict("stock rows were created while the import ran: send it again", field="rows")
        changed = await repo.apply_import(conn, reason="import", actor=actor)
        now = datetime.now(UTC)
        events = []
        for r in changed:
            before = None if r["before_on_hand"] is None else r["before_on_hand"] - r["reserved"]
            events += stock_events(
                r["store_id"],
                r["sku"],
                before,
                r["on_hand"] - r["reserved"],
                r["on_hand"],
                r["low_stock_threshold"],
                now,
            )
        # Up to one event per imported row: reading them all back would cost more than writing them.
        await bus.publish(conn, ctx.service, events, read_back=False)
        await audit.record(conn, ctx.service, *_import_audit(changed))
    rows = len(parsed.records)
    return ImportResult(rows=rows, changed=len(changed), unchanged=rows - len(changed))


def _import_audit(changed: Sequence[asyncpg.Record]) -> tuple[dict[str, object], dict[str, object]]:
    """An import's audit entry: the rows it changed, on hand before (null: a new row) and after."""
    before = [{"store_id": r["store_id"], "sku": r["sku"], "on_hand": r["before_on_hand"]} for r in changed]
    after = [{"store_id": r["store_id"], "sku": r["sku"], "on_hand": r["on_hand"]} for r in changed]
    return {"rows": before}, {"rows": after}


async def ledger(ctx: InventoryContext, store_id: str, sku: str, before: int | None, limit: int) -> Ledger:
    async with ctx.db.transaction(readonly=True) as conn:
        rows = await repo.ledger_of(conn, store_id, sku, before, limit)
    return Ledger(
        store_id=store_id,
        sku=sku,
        entries=[LedgerEntry(**dict(r), delta=r["after"] - r["before"]) for r in rows],
    )


async def stock_of_store(
    ctx: InventoryContext, store_id: str, skus: Sequence[str] | None, after: str | None, limit: int
) -> StockList:
    async with ctx.db.transaction(readonly=True) as conn:
        if skus is not None:
            return StockList(
                store_id=store_id, items=[_stock_item(r["sku"], r) for r in await repo.stock_of(conn, store_id, skus)]
            )
        rows = await repo.stock_page(conn, store_id, after, limit + 1)
    page = rows[:limit]
    more = len(rows) > limit
    return StockList(
        store_id=store_id, items=[_stock_item(r["sku"], r) for r in page], next_after=page[-1]["sku"] if more else None
    )


async def alternatives(ctx: InventoryContext, store_id: str, sku: str, limit: int = 10) -> AlternativeList:
    """What the store can hand over instead, most alike first (shared.alternatives decides the order)."""
    async with ctx.db.transaction(readonly=True) as conn:
        product = await catalog.get_product(conn, sku)
        if product is None:
            raise NotFound(f"unknown sku {sku!r}", field="sku")
        rows = await repo.available_alike(conn, store_id, sku, product["category"])
    names = {r["sku"]: r["names"] for r in rows}
    ranked = rank(
        product["name"],
        product["category"],
        [Candidate(r["sku"], r["name"], r["category"], r["available"]) for r in rows],
        limit,
    )
    return AlternativeList(
        store_id=store_id,
        sku=sku,
        items=[
            Alternative(sku=c.sku, name=c.name, category=c.category, available=c.available, names=names[c.sku])
            for c in ranked
        ],
    )
