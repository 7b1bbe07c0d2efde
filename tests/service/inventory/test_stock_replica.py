"""Every `stock.changed` carries the availability after the change (`data.after`) and the one before
it: a replica of availability fed only by these events, in the bus's order, holds exactly what
inventory answers, through every kind of change (sets, adjustments, imports in JSON and CSV,
reservations, releases by cancel, expiry and erasure, sales)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.inventory.orders.jobs import EXPIRE_ORDERS
from shared import bus
from shared.auth import TokenSigner
from shared.events import ErasureRequested, ErasureRequestedData
from shared.jobs import run_once
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, RunningServices, eventually

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
_signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)


def device(device_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_signer.issue('device', device_id)}"}


@dataclass
class Inventory:
    http: httpx.AsyncClient
    ctx: Any

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        r = await self.http.request(method, path, headers=kwargs.pop("headers", ADMIN), **kwargs)
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def order(self, device_id: str, store_id: str, lines: list[tuple[str, int]]) -> str:
        body = {"store_id": store_id, "lines": [{"sku": s, "qty": q} for s, q in lines]}
        return (await self.ok("POST", "/v1/orders", json=body, headers=device(device_id)))["order_id"]

    async def available(self, store_id: str) -> dict[tuple[str, str], int]:
        items = (await self.ok("GET", f"/v1/stores/{store_id}/stock"))["items"]
        return {(store_id, i["sku"]): i["available"] for i in items}


@pytest.fixture
async def inventory(running_inventory: RunningServices) -> AsyncIterator[Inventory]:
    async with httpx.AsyncClient(base_url=running_inventory.settings.inventory_url, timeout=30) as http:
        yield Inventory(http, running_inventory.state("inventory"))


async def replay(db: asyncpg.Connection) -> dict[tuple[str, str], int]:
    """Availability per (store, SKU) as a replica fed by `stock.changed` alone would hold it; each
    event must start from where the previous one for its item left off."""
    replica: dict[tuple[str, str], int] = {}
    for e in await db.fetch("SELECT source, store_id, data FROM bus.events WHERE type = 'stock.changed' ORDER BY id"):
        assert e["source"] == "inventory"
        item = (e["store_id"], e["data"]["sku"])
        assert e["data"]["before"] == replica.get(item, 0), (item, e["data"])
        replica[item] = e["data"]["after"]
    return replica


async def test_a_replica_fed_by_stock_changed_holds_what_inventory_answers(
    inventory: Inventory, db: asyncpg.Connection
) -> None:
    for sku in ("A", "B", "C"):
        await inventory.ok("PUT", f"/v1/products/{sku}", json={"name": f"Product {sku}", "category": "dairy"})
    await inventory.ok("PUT", "/v1/stores/s1/stock/A", json={"on_hand": 10})
    await inventory.ok("PUT", "/v1/stores/s1/stock/B", json={"on_hand": 5})
    await inventory.ok("PUT", "/v1/stores/s2/stock/A", json={"on_hand": 3})
    await inventory.ok("POST", "/v1/stores/s1/stock/A/adjustments", json={"delta": 2, "reason": "delivery"})
    await inventory.ok("POST", "/v1/stores/s1/stock/B/adjustments", json={"delta": -1, "reason": "breakage"})
    await inventory.ok("POST", "/v1/stores/s2/stock/C/adjustments", json={"delta": 4, "reason": "delivery"})

    held = await inventory.order("dev_a", "s1", [("A", 3), ("B", 2)])
    rows = [("s1", "A", 12), ("s1", "B", 8), ("s2", "A", 0), ("s3", "C", 0), ("s3", "B", 7)]
    result = await inventory.ok(
        "POST", "/v1/stock/import", json={"rows": [{"store_id": s, "sku": k, "on_hand": n} for s, k, n in rows]}
    )
    assert (result["changed"], result["unchanged"]) == (4, 1)
    csv = "store_id,sku,on_hand\ns1,C,6\ns2,A,5\ns1,A,15\n"
    await inventory.ok("POST", "/v1/stock/import", content=csv, headers={**ADMIN, "content-type": "text/csv"})

    sold = await inventory.order("dev_b", "s1", [("A", 1)])
    await inventory.ok("POST", f"/v1/orders/{sold}/ready")
    await inventory.ok("POST", f"/v1/orders/{sold}/collected")
    await inventory.ok("POST", f"/v1/orders/{held}/cancel")
    lapsing = await inventory.order("dev_c", "s2", [("A", 2), ("C", 1)])
    erased = await inventory.order("dev_d", "s3", [("B", 3)])
    await inventory.order("dev_e", "s1", [("C", 6)])  # to nothing left, and stays reserved

    async with db.transaction():
        request = ErasureRequestedData(erasure_id="era_1")
        await bus.publish(db, "notify", [ErasureRequested(ts=datetime.now(UTC), device_id="dev_d", data=request)])

    async def erasure_done() -> bool:
        return await db.fetchval("SELECT count(*) FROM bus.events WHERE type = 'erasure.confirmed'") == 1

    await eventually(erasure_done)
    await inventory.ok("POST", f"/v1/orders/{lapsing}/ready")  # not collected within the 48 hours
    assert await run_once(inventory.ctx, EXPIRE_ORDERS, now=datetime.now(UTC) + timedelta(days=3)) == 1
    statuses = dict(await db.fetch("SELECT order_id, status FROM inventory.orders"))
    assert [statuses[o] for o in (sold, held, lapsing, erased)] == ["collected", "canceled", "canceled", "canceled"]

    answered = {}
    for store_id in ("s1", "s2", "s3"):
        answered |= await inventory.available(store_id)
    assert answered[("s1", "C")] == 0 and answered[("s1", "A")] == 14
    assert await replay(db) == answered
