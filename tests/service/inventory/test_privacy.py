"""inventory's part of a shopper's rights: the erasure asked for on the bus, the notice, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.inventory.privacy.jobs import RETENTION
from shared import bus, erasure
from shared.db import connect
from shared.events import ErasureRequested, ErasureRequestedData
from shared.jobs import run_once
from tests.conftest import TOKEN_KEY, RunningServices, eventually
from tests.support.inventory import ADMIN, Inventory, staff


@pytest.fixture
async def shop(inventory: Inventory) -> Inventory:
    await inventory.product("OAT")
    await inventory.stock("rivoli", "OAT", 10)
    return inventory


async def request_erasure(db_url: str, device_id: str, erasure_id: str) -> None:
    """What notify publishes when a shopper asks to be erased."""
    conn = await connect(db_url)
    try:
        async with conn.transaction():
            event = ErasureRequested(
                ts=datetime.now(UTC), device_id=device_id, data=ErasureRequestedData(erasure_id=erasure_id)
            )
            await bus.publish(conn, "notify", [event])
    finally:
        await conn.close()


async def test_an_erasure_keeps_orders_under_a_pseudonym_cancels_open_ones_and_confirms(
    shop: Inventory, db: asyncpg.Connection, db_url: str
) -> None:
    sold = await shop.placed("dev_a", "rivoli", [("OAT", 2)], display_name="Camille", key="k-1")
    await shop.move(sold["order_id"], "ready", staff("rivoli"))
    await shop.move(sold["order_id"], "collected", staff("rivoli"))
    waiting = await shop.placed("dev_a", "rivoli", [("OAT", 3)], display_name="Camille")
    other = await shop.placed("dev_b", "rivoli", [("OAT", 1)], display_name="Léa")

    await request_erasure(db_url, "dev_a", "era_1")

    async def confirmed() -> bool:
        return bool(
            await db.fetchval(
                "SELECT count(*) FROM bus.events WHERE type = $1 AND data = $2",
                "erasure.confirmed",
                {"erasure_id": "era_1", "service": "inventory"},
            )
        )

    await eventually(confirmed)
    rows = await db.fetch("SELECT order_id, device_id, display_name, status, cancel_reason FROM inventory.orders")
    by_id = {r["order_id"]: r for r in rows}
    pseudonym = erasure.pseudonym(TOKEN_KEY, "dev_a")
    assert {by_id[o["order_id"]]["device_id"] for o in (sold, waiting)} == {pseudonym}
    assert by_id[sold["order_id"]]["display_name"] is None and by_id[sold["order_id"]]["status"] == "collected"
    assert (by_id[waiting["order_id"]]["status"], by_id[waiting["order_id"]]["cancel_reason"]) == ("canceled", "erased")
    assert by_id[other["order_id"]]["device_id"] == "dev_b" and by_id[other["order_id"]]["display_name"] == "Léa"
    assert await shop.available("rivoli", "OAT") == 7  # 10 - 2 sold - 1 still held for dev_b
    assert await db.fetchval("SELECT count(*) FROM inventory.orders WHERE device_id = 'dev_a'") == 0
    canceled = await db.fetchrow("SELECT device_id, data FROM bus.events WHERE type = 'order.canceled'")
    assert canceled["device_id"] == pseudonym and canceled["data"]["display_name"] is None


async def test_the_privacy_notice_states_inventorys_retention_without_a_token(shop: Inventory) -> None:
    r = await shop.http.get("/v1/privacy")
    assert r.status_code == 200 and r.json()["service"] == "inventory"
    kept = {c["data"]: c["kept"] for c in r.json()["collects"]}
    assert kept["display_name"] == {"unit": "days", "value": 30}
    assert all(set(c["what"]) == {"en", "fr"} for c in r.json()["collects"])


async def test_a_display_name_is_forgotten_30_days_after_the_order_ended(
    shop: Inventory, db: asyncpg.Connection, running_inventory: RunningServices
) -> None:
    ended = await shop.placed("dev_a", "rivoli", [("OAT", 1)], display_name="Camille")
    await shop.move(ended["order_id"], "cancel", ADMIN)
    open_order = await shop.placed("dev_b", "rivoli", [("OAT", 1)], display_name="Léa")
    state = running_inventory.state("inventory")
    now = datetime.now(UTC)
    assert await run_once(state, RETENTION, now=now + timedelta(days=29)) == 0
    assert await run_once(state, RETENTION, now=now + timedelta(days=31)) == 1
    names = dict(await db.fetch("SELECT order_id, display_name FROM inventory.orders"))
    assert names == {ended["order_id"]: None, open_order["order_id"]: "Léa"}
