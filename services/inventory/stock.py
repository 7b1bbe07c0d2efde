"""Stock changes: the rows, their ledger lines and their events, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from services.inventory import repository as repo
from services.inventory.importing import Parsed, RowError
from services.inventory.reservations import Line, shortages
from services.inventory.schemas import MAX_QUANTITY, ImportResult
from shared import bus
from shared.errors import Conflict, Invalid, NotFound
from shared.events import Event, StockBackInStock, StockChanged, StockData, StockLow, StockLowData

SOURCE = "inventory"


def stock_events(
    store_id: str,
    sku: str,
    before_available: int | None,
    after_available: int,
    on_hand: int,
    threshold: int | None,
    now: datetime,
) -> list[Event]:
    """What a change of availability means for the rest of the system (pure).

    `before_available` is None when the store had no row for the SKU: a first stocking is a change
    but not a return. `stock.low` fires when availability falls from above the product's threshold
    to at or below it, once per fall, not on every sale below it.
    """
    previous = before_available or 0
    if before_available is not None and previous == after_available:
        return []
    data = StockData(sku=sku, before=previous, after=after_available, on_hand=on_hand)
    events: list[Event] = [StockChanged(ts=now, store_id=store_id, data=data)]
    if before_available is not None and previous == 0 and after_available > 0:
        events.append(StockBackInStock(ts=now, store_id=store_id, data=data))
    if threshold is not None and previous > threshold >= after_available:
        low = StockLowData(sku=sku, before=previous, after=after_available, on_hand=on_hand, threshold=threshold)
        events.append(StockLow(ts=now, store_id=store_id, data=low))
    return events


async def _product_or_404(conn: asyncpg.Connection, sku: str) -> asyncpg.Record:
    product = await repo.get_product(conn, sku)
    if product is None:
        raise NotFound(f"unknown sku {sku!r}: create the product first", field="sku")
    return product


async def set_on_hand(
    conn: asyncpg.Connection, store_id: str, sku: str, on_hand: int, *, reason: str, actor: str
) -> asyncpg.Record:
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
        await repo.record_ledger(conn, store_id, sku, before_on_hand, on_hand, kind="set", reason=reason, actor=actor)
    before_available = current["on_hand"] - current["reserved"] if current else None
    await bus.publish(
        conn,
        SOURCE,
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
    return row


async def adjust(
    conn: asyncpg.Connection, store_id: str, sku: str, delta: int, *, reason: str, actor: str
) -> asyncpg.Record:
    """A relative change (a delivery of +12, a breakage of -1), refused if it would leave less on hand
    than orders hold: the check is part of the UPDATE, so it holds against concurrent reservations."""
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
    await bus.publish(
        conn,
        SOURCE,
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
    return row


async def reserve(conn: asyncpg.Connection, store_id: str, lines: Sequence[Line], now: datetime) -> list[Event]:
    """Reserve every line (of known products), or raise a 409 naming what is short so that the
    caller's transaction rolls back whatever was reserved. Returns the stock events to publish."""
    skus, qtys = [line.sku for line in lines], [line.qty for line in lines]
    locked = await repo.lock_store_items(conn, store_id, skus)
    done = await repo.reserve(conn, store_id, skus, qtys)
    if len(done) < len(lines):
        # The rows are locked: what they hold now is exactly why the reservation failed.
        short = shortages(lines, {r["sku"]: r["on_hand"] - r["reserved"] for r in locked})
        raise Conflict(
            "not enough stock: " + ", ".join(f"{s.sku} (wanted {s.wanted}, available {s.available})" for s in short),
            field="lines",
            sku=short[0].sku,
            available=short[0].available,
            shortages=[{"sku": s.sku, "wanted": s.wanted, "available": s.available} for s in short],
        )
    events = []
    for r in done:
        after = r["on_hand"] - r["reserved"]
        events += stock_events(store_id, r["sku"], after + r["qty"], after, r["on_hand"], r["low_stock_threshold"], now)
    return events


async def release(conn: asyncpg.Connection, items: Sequence[tuple[str, str, int]], now: datetime) -> list[Event]:
    """Give (store_id, sku, qty) reservations back; returns the stock events to publish."""
    store_ids = [store_id for store_id, _, _ in items]
    skus = [sku for _, sku, _ in items]
    qtys = [qty for _, _, qty in items]
    await repo.lock_items(conn, store_ids, skus)
    events = []
    for r in await repo.release(conn, store_ids, skus, qtys):
        after = r["on_hand"] - r["reserved"]
        events += stock_events(
            r["store_id"], r["sku"], after - r["qty"], after, r["on_hand"], r["low_stock_threshold"], now
        )
    return events


async def sell(conn: asyncpg.Connection, store_id: str, lines: Sequence[Line], *, order_id: str, actor: str) -> None:
    """Reserved units leave the store: availability is unchanged, so there is no stock event."""
    skus, qtys = [line.sku for line in lines], [line.qty for line in lines]
    await repo.lock_store_items(conn, store_id, skus)
    await repo.sell(conn, store_id, skus, qtys, order_id=order_id, actor=actor)


async def import_rows(conn: asyncpg.Connection, parsed: Parsed, *, actor: str) -> ImportResult:
    """Apply a whole import or nothing. Rows are staged with COPY and checked against the database
    (unknown SKUs, on_hand below what orders hold, one item twice) before anything is written, so one
    answer lists every bad row; then stock, ledger and events are written set-based."""
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
            r["store_id"], r["sku"], before, r["on_hand"] - r["reserved"], r["on_hand"], r["low_stock_threshold"], now
        )
    await bus.publish(conn, SOURCE, events, read_back=False)
    rows = len(parsed.records)
    return ImportResult(rows=rows, changed=len(changed), unchanged=rows - len(changed))
