"""The catalogue's wire format."""

from __future__ import annotations

from typing import Annotated

import msgspec

from shared.wire import LOCALE_PATTERN, Answer, Body, Name

MAX_QUANTITY = 10_000_000
Quantity = Annotated[int, msgspec.Meta(ge=0, le=MAX_QUANTITY)]
"""A count of a product's units: what a store has on hand, a low-stock threshold."""

LocalizedNames = dict[Annotated[str, msgspec.Meta(pattern=LOCALE_PATTERN)], Name]


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


class ProductList(Answer):
    products: list[Product]
    """by SKU, at most `limit`"""
    next_after: str | None = None
    """When there may be more: the `after` of the next page."""
