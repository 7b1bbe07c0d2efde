"""The catalogue's use cases."""

from __future__ import annotations

import asyncpg

from services.inventory.catalog import repository as repo
from services.inventory.catalog.schemas import Product, ProductPut
from services.inventory.context import InventoryContext
from shared.errors import NotFound


def _product(row: asyncpg.Record) -> Product:
    return Product(
        sku=row["sku"],
        name=row["name"],
        category=row["category"],
        names=row["names"],
        low_stock_threshold=row["low_stock_threshold"],
    )


async def put_product(ctx: InventoryContext, sku: str, data: ProductPut) -> Product:
    async with ctx.db.transaction() as conn:
        row = await repo.upsert_product(conn, sku, data.name, data.category, data.names, data.low_stock_threshold)
    return _product(row)


async def get_product(ctx: InventoryContext, sku: str) -> Product:
    async with ctx.db.transaction(readonly=True) as conn:
        row = await repo.get_product(conn, sku)
    if row is None:
        raise NotFound(f"unknown sku {sku!r}", field="sku")
    return _product(row)
