"""Orders' wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from services.inventory.stock.schemas import Reason
from shared.wire import Answer, Body, Id

MAX_LINE_QTY = 999
MAX_ORDER_LINES = 100


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
    next_before: str | None = None
    """A shopper's orders, when there are more: the `before` of the next page."""
