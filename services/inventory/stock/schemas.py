"""Stock's wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from services.inventory.catalog.schemas import MAX_QUANTITY, Quantity
from shared.wire import Answer, Body

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class StockPut(Body):
    on_hand: Quantity
    reason: Annotated[str, msgspec.Meta(max_length=200)] = "set"


class StockAdjust(Body):
    delta: Annotated[
        int,
        msgspec.Meta(ge=-MAX_QUANTITY, le=MAX_QUANTITY, description="not 0", extra_json_schema={"not": {"const": 0}}),
    ]
    reason: Reason
    """Why, for the ledger: "delivery", "breakage", "count correction"..."""


class StockItem(Answer):
    sku: str
    on_hand: int
    reserved: int
    available: int


class StockList(Answer):
    store_id: str
    items: list[StockItem]
    next_after: str | None = None
    """Without a `sku` filter, when there is more: the `after` of the next page."""


class LedgerEntry(Answer):
    id: int
    at: datetime
    kind: Literal["set", "adjustment", "import", "sale"]
    reason: str
    actor: str
    before: int
    after: int
    delta: int
    order_id: str | None = None


class Ledger(Answer):
    store_id: str
    sku: str
    entries: list[LedgerEntry]
    """Newest first; ask again with `before` = the last id for older entries."""


class ImportResult(Answer):
    rows: int
    changed: int
    unchanged: int


class Alternative(Answer):
    sku: str
    name: str
    category: str
    available: int
    names: dict[str, str] = {}


class AlternativeList(Answer):
    store_id: str
    sku: str
    items: list[Alternative]
