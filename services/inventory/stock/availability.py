"""What is short of the lines asked for, and what a change of availability means for the rest of the
system. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.events import Event, StockBackInStock, StockChanged, StockData, StockLow, StockLowData


@dataclass(frozen=True, order=True)
class Line:
    """A quantity of one SKU, asked of a store's stock (an order's line)."""

    sku: str
    qty: int


@dataclass(frozen=True)
class Shortage:
    sku: str
    wanted: int
    available: int


def shortages(lines: Sequence[Line], available: Mapping[str, int]) -> list[Shortage]:
    """Lines the store cannot cover; a SKU the store has no stock row for has nothing available."""
    short = []
    for line in lines:
        have = max(available.get(line.sku, 0), 0)
        if have < line.qty:
            short.append(Shortage(line.sku, line.qty, have))
    return short


def stock_events(
    store_id: str,
    sku: str,
    before_available: int | None,
    after_available: int,
    on_hand: int,
    threshold: int | None,
    now: datetime,
) -> list[Event]:
    """The events of one item's change, each carrying the availability after it (`data.after`), so a
    replica fed only by them holds what the store has.

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
