"""Orders nobody prepared or collected in time are canceled by the scheduled job, releasing stock.
The job is run with an explicit clock: nothing here sleeps."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.inventory.orders import service as orders
from services.inventory.orders.jobs import EXPIRE_ORDERS
from shared.jobs import run_once
from tests.conftest import RunningServices
from tests.support.inventory import ADMIN, Inventory, staff


@pytest.fixture
def replica(running_inventory: RunningServices) -> Any:
    """The running inventory's own state (its pool and settings), to run its job at a chosen time."""
    return running_inventory.state("inventory")


@pytest.fixture
async def shop(inventory: Inventory) -> Inventory:
    await inventory.product("OAT")
    await inventory.stock("rivoli", "OAT", 10)
    return inventory


def at(order: dict, field: str) -> datetime:
    return datetime.fromisoformat(order[field])


async def ready_order(shop: Inventory, qty: int = 3) -> dict:
    order = await shop.placed("dev_a", "rivoli", [("OAT", qty)], display_name="Camille")
    r = await shop.move(order["order_id"], "ready", staff("rivoli"))
    assert r.status_code == 200
    return r.json()


async def test_a_ready_order_is_kept_until_its_pickup_hold_runs_out(shop: Inventory, replica: Any) -> None:
    order = await ready_order(shop)
    assert at(order, "expires_at") == at(order, "ready_at") + timedelta(hours=48)
    almost = at(order, "ready_at") + timedelta(hours=48) - timedelta(seconds=1)
    assert await run_once(replica, EXPIRE_ORDERS, now=almost) == 0
    assert await shop.available("rivoli", "OAT") == 7


async def test_a_ready_order_not_collected_in_48_hours_is_canceled_and_its_stock_released(
    shop: Inventory, replica: Any, db: asyncpg.Connection
) -> None:
    order = await ready_order(shop)
    later = at(order, "ready_at") + timedelta(hours=48)
    assert await run_once(replica, EXPIRE_ORDERS, now=later) == 1
    r = await shop.http.get(f"/v1/orders/{order['order_id']}", headers=ADMIN)
    assert r.json()["status"] == "canceled" and r.json()["cancel_reason"] == "not_collected"
    assert at(r.json(), "canceled_at") == later
    assert await shop.available("rivoli", "OAT") == 10
    event = await db.fetchrow("SELECT device_id, store_id, data FROM bus.events WHERE type = 'order.canceled'")
    assert (event["device_id"], event["store_id"]) == ("dev_a", "rivoli")
    assert event["data"] == {"lines": [{"sku": "OAT", "qty": 3}], "display_name": "Camille", "reason": "not_collected"}


async def test_an_order_never_made_ready_lapses_after_the_prepare_hold(shop: Inventory, replica: Any) -> None:
    order = await shop.placed("dev_a", "rivoli", [("OAT", 4)])
    placed = at(order, "created_at")
    assert await run_once(replica, EXPIRE_ORDERS, now=placed + timedelta(days=3)) == 0
    assert await run_once(replica, EXPIRE_ORDERS, now=placed + timedelta(days=7)) == 1
    r = await shop.http.get(f"/v1/orders/{order['order_id']}", headers=ADMIN)
    assert r.json()["cancel_reason"] == "not_prepared"
    assert await shop.available("rivoli", "OAT") == 10


async def test_collected_and_canceled_orders_are_left_alone(shop: Inventory, replica: Any) -> None:
    collected = await ready_order(shop, 1)
    await shop.move(collected["order_id"], "collected", staff("rivoli"))
    canceled = await ready_order(shop, 1)
    await shop.move(canceled["order_id"], "cancel", staff("rivoli"))
    assert await run_once(replica, EXPIRE_ORDERS, now=at(canceled, "ready_at") + timedelta(days=30)) == 0
    item = (await shop.http.get("/v1/stores/rivoli/stock", params={"sku": "OAT"}, headers=ADMIN)).json()["items"][0]
    assert item == {"sku": "OAT", "on_hand": 9, "reserved": 0, "available": 9}


async def test_a_backlog_larger_than_one_batch_is_cleared_in_one_run(shop: Inventory, replica: Any) -> None:
    await shop.stock("rivoli", "OAT", 1000)
    placed = [await shop.placed(f"dev_{i}", "rivoli", [("OAT", 1)]) for i in range(12)]
    later = max(at(o, "created_at") for o in placed) + timedelta(days=8)
    assert await orders.cancel_lapsed(replica, later, batch=5) == 12
    assert await shop.available("rivoli", "OAT") == 1000


async def test_expiry_racing_a_hand_over_does_one_or_the_other(shop: Inventory, replica: Any) -> None:
    order = await ready_order(shop)
    later = at(order, "ready_at") + timedelta(hours=49)
    expired, handed = await asyncio.gather(
        run_once(replica, EXPIRE_ORDERS, now=later), shop.move(order["order_id"], "collected", staff("rivoli"))
    )
    assert (expired, handed.status_code) in ((1, 409), (0, 200))
    item = (await shop.http.get("/v1/stores/rivoli/stock", params={"sku": "OAT"}, headers=ADMIN)).json()["items"][0]
    assert item["reserved"] == 0 and item["on_hand"] == (10 if expired else 7)
