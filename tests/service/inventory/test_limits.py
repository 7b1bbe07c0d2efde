"""One shopper cannot hold a store's stock: open orders, their units and how often one orders are capped,
and a hoarder's caps leave the stock on sale for everyone else."""

from __future__ import annotations

import asyncio

import pytest

from services.inventory.settings import InventorySettings
from tests.support.inventory import Inventory, staff

LIMITS = InventorySettings(max_open_orders=2, max_open_units=6, max_units_per_product=4, max_orders_per_hour=4)


@pytest.fixture
def inventory_settings() -> InventorySettings:
    return LIMITS


@pytest.fixture
async def shop(inventory: Inventory) -> Inventory:
    await inventory.product("OAT", "Oat milk 1L")
    await inventory.product("YOG", "Plain yoghurt")
    await inventory.stock("rivoli", "OAT", 100)
    await inventory.stock("rivoli", "YOG", 100)
    return inventory


async def test_units_of_one_product_and_in_all_are_capped_naming_the_limit(shop: Inventory) -> None:
    r = await shop.order("dev_a", "rivoli", [("OAT", 5)])
    assert r.status_code == 409 and r.json()["field"] == "lines" and "4 units of one product" in r.json()["detail"]
    await shop.placed("dev_a", "rivoli", [("OAT", 4)])
    r = await shop.order("dev_a", "rivoli", [("YOG", 3)])
    assert r.status_code == 409 and "6 units in open orders" in r.json()["detail"]
    assert await shop.available("rivoli", "YOG") == 100  # nothing half-reserved


async def test_open_orders_are_capped_and_a_collected_one_frees_its_place(shop: Inventory) -> None:
    first = await shop.placed("dev_a", "rivoli", [("OAT", 1)])
    await shop.placed("dev_a", "rivoli", [("YOG", 1)])
    r = await shop.order("dev_a", "rivoli", [("OAT", 1)])
    assert r.status_code == 409 and "2 open orders" in r.json()["detail"]
    assert (await shop.placed("dev_b", "rivoli", [("OAT", 1)]))["status"] == "reserved"  # others are not held up
    for action in ("ready", "collected"):
        assert (await shop.move(first["order_id"], action, staff("rivoli"))).status_code == 200
    assert (await shop.placed("dev_a", "rivoli", [("OAT", 1)]))["status"] == "reserved"


async def test_ordering_too_often_is_429_with_retry_after(shop: Inventory) -> None:
    for _ in range(2):
        order = await shop.placed("dev_a", "rivoli", [("OAT", 1)])
        assert (await shop.move(order["order_id"], "cancel", staff("rivoli"))).status_code == 200
        order = await shop.placed("dev_a", "rivoli", [("YOG", 1)])
        assert (await shop.move(order["order_id"], "cancel", staff("rivoli"))).status_code == 200
    r = await shop.order("dev_a", "rivoli", [("OAT", 1)])
    assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= 3600


async def test_a_retry_with_its_key_is_answered_even_at_the_limit(shop: Inventory) -> None:
    first = await shop.order("dev_a", "rivoli", [("OAT", 4)], key="k-1")
    again = await shop.order("dev_a", "rivoli", [("OAT", 4)], key="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["order_id"] == again.json()["order_id"]


async def test_a_device_racing_itself_cannot_pass_its_caps(shop: Inventory) -> None:
    answers = await asyncio.gather(*(shop.order("dev_a", "rivoli", [("OAT", 3)]) for _ in range(8)))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 7
    assert await shop.available("rivoli", "OAT") == 97


async def test_a_hoarding_script_leaves_the_stock_to_everyone_else(shop: Inventory) -> None:
    """Fresh devices each grabbing all they can: each is held to its caps (how many devices one client may
    register is notify's budget per address)."""
    grabs = [shop.order(f"hoard_{i}", "rivoli", [("OAT", 4), ("YOG", 2)]) for i in range(8)]
    answers = await asyncio.gather(*grabs)
    assert all(r.status_code == 201 for r in answers)
    more = await asyncio.gather(*(shop.order(f"hoard_{i}", "rivoli", [("OAT", 1)]) for i in range(8)))
    assert all(r.status_code == 409 for r in more)
    assert await shop.available("rivoli", "OAT") == 100 - 8 * 4
    assert (await shop.placed("shopper", "rivoli", [("OAT", 2)]))["status"] == "reserved"
