"""Stock changes: the row, its ledger line and its events, in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services.inventory import repository as repo
from shared import bus
from shared.errors import Conflict, NotFound
from shared.events import NewEvent

SOURCE = "inventory"


def stock_events(
    store_id: str, sku: str, before_available: int | None, after_available: int, on_hand: int
) -> list[NewEvent]:
    """What a change of availability means for the rest of the system (pure)."""
    now = datetime.now(UTC)
    previous = before_available or 0
    if before_available is not None and previous == after_available:
        return []
    data = {"sku": sku, "before": previous, "after": after_available, "on_hand": on_hand}
    events = [NewEvent(type="stock.changed", ts=now, store_id=store_id, data=data)]
    if before_available is not None and previous == 0 and after_available > 0:
        events.append(NewEvent(type="stock.back_in_stock", ts=now, store_id=store_id, data=data))
    return events


async def set_on_hand(
    conn: asyncpg.Connection, store_id: str, sku: str, on_hand: int, *, reason: str, actor: str
) -> asyncpg.Record:
    if await repo.get_product(conn, sku) is None:
        raise NotFound(f"unknown sku {sku!r}: create the product first", field="sku")
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
        await repo.record_ledger(conn, store_id, sku, before_on_hand, on_hand, reason, actor)
    before_available = current["on_hand"] - current["reserved"] if current else None
    after_available = row["on_hand"] - row["reserved"]
    await bus.publish(conn, SOURCE, stock_events(store_id, sku, before_available, after_available, row["on_hand"]))
    return row
