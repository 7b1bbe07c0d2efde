"""What orders do to stock: reserve it, release it, sell it. Each runs in the order's transaction and
returns the stock events for the caller to publish there."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.inventory.stock import repository as repo
from services.inventory.stock.availability import Line, shortages, stock_events
from shared.errors import Conflict
from shared.events import Event


async def reserve(conn: asyncpg.Connection, store_id: str, lines: Sequence[Line], now: datetime) -> list[Event]:
    """Reserve every line (of known products), or raise a 409 naming what is short so that the
    caller's transaction rolls back whatever was reserved."""
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
    """Give (store_id, sku, qty) reservations back."""
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
    """Reserved units leave the store: on_hand and reserved drop together, availability is unchanged,
    so there is no stock event (a replica of availability is already right)."""
    skus, qtys = [line.sku for line in lines], [line.qty for line in lines]
    await repo.lock_store_items(conn, store_id, skus)
    await repo.sell(conn, store_id, skus, qtys, order_id=order_id, actor=actor)
