"""`product.changed`: published with every change of what other services copy of a product (its
names and category), so notify can keep a replica of them from the bus alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from shared import bus
from shared.auth import TokenSigner
from shared.events import ProductChanged, ProductData
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, RunningServices

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def http(running_inventory: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running_inventory.settings.inventory_url, timeout=30) as client:
        yield client


async def put(http: httpx.AsyncClient, sku: str, headers: dict[str, str] = ADMIN, **body: Any) -> httpx.Response:
    return await http.put(
        f"/v1/products/{sku}", json={"name": "Oat milk 1L", "category": "dairy", **body}, headers=headers
    )


async def product_events(db: asyncpg.Connection) -> list[tuple[str, dict[str, Any]]]:
    rows = await db.fetch("SELECT source, data FROM bus.events WHERE type = 'product.changed' ORDER BY id")
    return [(r["source"], r["data"]) for r in rows]


async def test_creating_a_product_publishes_it(http: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    r = await put(http, "OAT", names={"fr": "Lait d'avoine 1L"}, low_stock_threshold=3)
    assert r.status_code == 200, r.text
    assert await product_events(db) == [
        ("inventory", {"sku": "OAT", "name": "Oat milk 1L", "category": "dairy", "names": {"fr": "Lait d'avoine 1L"}})
    ]
    event = await db.fetchrow("SELECT store_id, device_id, order_id FROM bus.events WHERE type = 'product.changed'")
    assert dict(event) == {"store_id": None, "device_id": None, "order_id": None}


async def test_each_change_of_name_names_or_category_publishes_the_product_as_it_now_is(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    puts = [
        {},
        {"name": "Oat drink 1L"},
        {"name": "Oat drink 1L", "names": {"fr": "Boisson avoine"}},
        {"name": "Oat drink 1L", "names": {"fr": "Boisson avoine"}, "category": "plant"},
        {"name": "Oat drink 1L", "category": "plant"},  # the localized names are dropped
    ]
    for body in puts:
        assert (await put(http, "OAT", **body)).status_code == 200
    published = [e for e in await bus.feed(db, "inventory", 0, 100) if isinstance(e, ProductChanged)]
    assert [e.data for e in published] == [
        ProductData(sku="OAT", name="Oat milk 1L", category="dairy"),
        ProductData(sku="OAT", name="Oat drink 1L", category="dairy"),
        ProductData(sku="OAT", name="Oat drink 1L", category="dairy", names={"fr": "Boisson avoine"}),
        ProductData(sku="OAT", name="Oat drink 1L", category="plant", names={"fr": "Boisson avoine"}),
        ProductData(sku="OAT", name="Oat drink 1L", category="plant"),
    ]


async def test_a_put_that_changes_nothing_copied_publishes_nothing(
    http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    assert (await put(http, "OAT", names={"fr": "Lait d'avoine"})).status_code == 200
    assert (await put(http, "OAT", names={"fr": "Lait d'avoine"})).status_code == 200
    r = await put(http, "OAT", names={"fr": "Lait d'avoine"}, low_stock_threshold=4)  # not in the event
    assert r.status_code == 200 and r.json()["low_stock_threshold"] == 4
    assert len(await product_events(db)) == 1


async def test_a_refused_put_publishes_nothing(http: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    staff = {"Authorization": f"Bearer {TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue('staff', 'stf_1', store_id='s')}"}
    assert (await put(http, "OAT", headers=staff)).status_code == 403
    assert (await put(http, "OAT", name="")).status_code == 422
    assert await product_events(db) == []
