"""inventory's wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from shared.wire import Answer, Body, Id, Name

MAX_QUANTITY = 10_000_000
Quantity = Annotated[int, msgspec.Meta(ge=0, le=MAX_QUANTITY)]
LocalizedNames = dict[Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")], Name]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]

MAX_LINE_QTY = 999
MAX_ORDER_LINES = 100


class ProductPut(Body):
    name: Name
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    names: LocalizedNames = {}
    low_stock_threshold: Quantity | None = None
    """`stock.low` fires when a store's available stock falls from above this to at or below it."""


class Product(Answer):
    sku: str
    name: str
    category: str
    names: dict[str, str] = {}
    low_stock_threshold: int | None = None


class StockPut(Body):
    on_hand: Quantity
    reason: Annotated[str, msgspec.Meta(max_length=200)] = "set"


class StockAdjust(Body):
    delta: Annotated[int, msgspec.Meta(ge=-MAX_QUANTITY, le=MAX_QUANTITY, description="not 0")]
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


class OrderLineIn(Body):
    sku: Id
    qty: Annotated[int, msgspec.Meta(ge=1, le=MAX_LINE_QTY)]


class OrderCreate(Body):
    store_id: Id
    lines: Annotated[list[OrderLineIn], msgspec.Meta(min_length=1, max_length=MAX_ORDER_LINES)]
    display_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    """The first name or nickname staff will call the shopper by (trimmed, at most 40 characters)."""


class OrderCancel(Body):
    reason: Reason | None = None


class OrderLine(Answer):
    sku: str
    qty: int


OrderStatus = Literal["reserved", "ready", "collected", "canceled"]


class Order(Answer):
    order_id: str
    status: OrderStatus
    store_id: str
    device_id: str
    display_name: str | None
    lines: list[OrderLine]
    created_at: datetime
    ready_at: datetime | None
    collected_at: datetime | None
    canceled_at: datetime | None
    cancel_reason: str | None = None
    expires_at: datetime | None = None
    """While reserved or ready: when the order lapses and its stock is released if it has not moved on."""


class OrderList(Answer):
    orders: list[Order]
