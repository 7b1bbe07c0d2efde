"""The catalogue's use cases."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services.inventory.catalog import repository as repo
from services.inventory.catalog.schemas import Product, ProductList, ProductPut
from services.inventory.context import InventoryContext
from shared import audit
from shared.errors import NotFound
from shared.events import ProductChanged, ProductData


def _product(row: asyncpg.Record) -> Product:
    return Product(
        sku=row["sku"],
        name=row["name"],
        category=row["category"],
        names=row["names"],
        low_stock_threshold=row["low_stock_threshold"],
    )


def _replicated(row: asyncpg.Record) -> ProductData:
    """What other services keep a copy of: a change to anything else (the low-stock threshold) is
    not news to them."""
    return ProductData(sku=row["sku"], name=row["name"], category=row["category"], names=row["names"])


async def put_product(ctx: InventoryContext, sku: str, data: ProductPut) -> Product:
    """Create or replace a product; `product.changed` is published with it when it is new or its
    names or category changed, so a replica fed by these events holds what is here."""
    async with ctx.db.transaction() as conn:
        locked = await repo.lock_product(conn, sku)
        before = _replicated(locked) if locked is not None else None
        row = await repo.upsert_product(conn, sku, data.name, data.category, data.names, data.low_stock_threshold)
        after = _replicated(row)
        if after != before:
            await ctx.publish(conn, [ProductChanged(ts=datetime.now(UTC), data=after)])
        await audit.record(conn, ctx.service, locked and _product(locked), _product(row))
    return _product(row)


async def get_product(ctx: InventoryContext, sku: str) -> Product:
    async with ctx.db.transaction(readonly=True) as conn:
        row = await repo.get_product(conn, sku)
    if row is None:
        raise NotFound(f"unknown sku {sku!r}", field="sku")
    return _product(row)


async def search_products(ctx: InventoryContext, query: str, after: str | None, limit: int) -> ProductList:
    async with ctx.db.transaction(readonly=True) as conn:
        rows = await repo.search_products(conn, query.strip(), after, limit)
    return ProductList(products=[_product(r) for r in rows], next_after=rows[-1]["sku"] if len(rows) == limit else None)
