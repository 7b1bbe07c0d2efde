"""notify's replica of inventory's stock and products, fed by their events: each row as of the latest
event applied, never set back by one delivered late; what an offer is decided on."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services.notify.replicas import consumers
from services.notify.replicas import service as replicas
from shared.events import ProductChanged, ProductData, StockChanged, StockData

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def stock_changed(event_id: int, sku: str, after: int, store_id: str = "rivoli") -> StockChanged:
    return StockChanged(
        id=event_id, ts=NOW, store_id=store_id, data=StockData(sku=sku, before=0, after=after, on_hand=after + 1)
    )


def product_changed(event_id: int, sku: str, name: str, category: str = "dairy", **names: str) -> ProductChanged:
    return ProductChanged(id=event_id, ts=NOW, data=ProductData(sku=sku, name=name, category=category, names=names))


async def available(db: asyncpg.Connection, sku: str, store_id: str = "rivoli") -> tuple[int, int, int] | None:
    row = await db.fetchrow(
        "SELECT available, on_hand, event_id FROM notify.stock WHERE store_id = $1 AND sku = $2", store_id, sku
    )
    return tuple(row) if row else None


async def test_a_stock_event_sets_the_stores_row(db: asyncpg.Connection) -> None:
    await consumers.apply(db, stock_changed(10, "YOG-1", 4), None)
    await consumers.apply(db, stock_changed(11, "YOG-1", 2, store_id="opera"), None)
    assert await available(db, "YOG-1") == (4, 5, 10)
    assert await available(db, "YOG-1", "opera") == (2, 3, 11)


async def test_an_older_event_delivered_late_does_not_go_back_in_time(db: asyncpg.Connection) -> None:
    await consumers.apply(db, stock_changed(20, "YOG-1", 0), None)
    await consumers.apply(db, stock_changed(12, "YOG-1", 9), None)  # a redelivery of an earlier change
    await consumers.apply(db, stock_changed(20, "YOG-1", 9), None)  # the same event twice changes nothing
    assert await available(db, "YOG-1") == (0, 1, 20)
    await consumers.apply(db, stock_changed(21, "YOG-1", 3), None)
    assert await available(db, "YOG-1") == (3, 4, 21)


async def test_a_product_keeps_its_latest_name_and_category(db: asyncpg.Connection) -> None:
    await consumers.apply(db, product_changed(30, "YOG-1", "Yoghurt", fr="Yaourt"), None)
    await consumers.apply(db, product_changed(29, "YOG-1", "Old name", category="old"), None)
    row = await db.fetchrow("SELECT name, category, names, event_id FROM notify.products WHERE sku = 'YOG-1'")
    assert tuple(row) == ("Yoghurt", "dairy", {"fr": "Yaourt"}, 30)


async def test_an_offer_reads_the_product_and_its_availability_at_the_store(db: asyncpg.Connection) -> None:
    await consumers.apply(db, product_changed(1, "YOG-1", "Plain yoghurt", fr="Yaourt nature"), None)
    assert (await replicas.product_at(db, "rivoli", "YOG-1")).available == 0  # known, never stocked here
    await consumers.apply(db, stock_changed(2, "YOG-1", 6), None)
    product = await replicas.product_at(db, "rivoli", "YOG-1")
    assert (product.sku, product.available, product.name_in("fr-FR")) == ("YOG-1", 6, "Yaourt nature")


async def test_a_product_the_replica_does_not_know_has_no_stock_and_no_alternative(db: asyncpg.Connection) -> None:
    await consumers.apply(db, stock_changed(1, "GHOST", 5), None)  # stock without its product.changed yet
    await consumers.apply(db, product_changed(2, "YOG-2", "Plain yoghurt organic"), None)
    await consumers.apply(db, stock_changed(3, "YOG-2", 5), None)
    assert await replicas.product_at(db, "rivoli", "GHOST") is None
    assert await replicas.best_alternative(db, "rivoli", "GHOST") is None


async def test_the_alternative_is_in_stock_at_that_store_in_the_same_category_closest_by_name(
    db: asyncpg.Connection,
) -> None:
    products = [
        ("YOG-1", "Plain yoghurt", "dairy", 0),
        ("YOG-2", "Plain yoghurt organic", "dairy", 2),
        ("YOG-3", "Strawberry yoghurt", "dairy", 9),
        ("YOG-4", "Plain yoghurt 4-pack", "dairy", 0),
        ("BOWL-1", "Plain yoghurt bowl", "kitchen", 7),
    ]
    for i, (sku, name, category, units) in enumerate(products):
        await consumers.apply(db, product_changed(100 + i, sku, name, category, en=name), None)
        await consumers.apply(db, stock_changed(200 + i, sku, units), None)
    await consumers.apply(db, stock_changed(300, "YOG-4", 8, store_id="opera"), None)  # another store's stock

    best = await replicas.best_alternative(db, "rivoli", "YOG-1")
    assert (best.sku, best.available, best.names) == ("YOG-2", 2, {"en": "Plain yoghurt organic"})
    await consumers.apply(db, stock_changed(301, "YOG-2", 0), None)
    assert (await replicas.best_alternative(db, "rivoli", "YOG-1")).sku == "YOG-3"
