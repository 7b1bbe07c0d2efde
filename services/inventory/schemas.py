"""inventory's wire format."""

from __future__ import annotations

from typing import Annotated

import msgspec

from shared.wire import Answer, Body, Name

Quantity = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
LocalizedNames = dict[Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")], Name]


class ProductPut(Body):
    name: Name
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    names: LocalizedNames = {}


class Product(Answer):
    sku: str
    name: str
    category: str
    names: dict[str, str] = {}


class StockPut(Body):
    on_hand: Quantity
    reason: Annotated[str, msgspec.Meta(max_length=200)] = "set"


class StockItem(Answer):
    sku: str
    on_hand: int
    reserved: int
    available: int


class StockList(Answer):
    store_id: str
    items: list[StockItem]


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
