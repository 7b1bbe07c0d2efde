"""Stock changes: absolute sets and relative adjustments, the ledger, stock events, store scoping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
from hypothesis import given
from hypothesis import strategies as st

from services.inventory.stock.availability import stock_events
from tests.inventory.conftest import ADMIN, Inventory, device, staff

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def types(before: int | None, after: int, threshold: int | None = None) -> list[str]:
    return [e.type for e in stock_events("s", "A", before, after, after, threshold, NOW)]


# ------------------------------------------------------------------------------------ pure rules


def test_no_change_of_availability_means_no_event() -> None:
    assert types(4, 4) == []


def test_from_zero_to_more_is_back_in_stock_but_a_first_stocking_is_not() -> None:
    assert types(0, 3) == ["stock.changed", "stock.back_in_stock"]
    assert types(None, 3) == ["stock.changed"]


def test_low_stock_fires_when_availability_falls_through_the_threshold() -> None:
    assert types(6, 5, threshold=5) == ["stock.changed", "stock.low"]
    assert types(9, 0, threshold=5) == ["stock.changed", "stock.low"]
    assert types(5, 4, threshold=5) == ["stock.changed"]  # already low: no second alert
    assert types(3, 9, threshold=5) == ["stock.changed"]
    assert types(6, 5, threshold=None) == ["stock.changed"]


@given(
    before=st.none() | st.integers(0, 50),
    after=st.integers(0, 50),
    threshold=st.none() | st.integers(0, 50),
)
def test_events_follow_the_change_of_availability(before: int | None, after: int, threshold: int | None) -> None:
    events = stock_events("s", "A", before, after, after, threshold, NOW)
    names = [e.type for e in events]
    previous = before or 0
    assert ("stock.changed" in names) == (before is None or previous != after)
    assert ("stock.back_in_stock" in names) == (before is not None and previous == 0 < after)
    assert ("stock.low" in names) == (threshold is not None and previous > threshold >= after)
    assert all(e.data.before == previous and e.data.after == after for e in events)


# ------------------------------------------------------------------------------- adjustments


async def test_a_delivery_and_a_breakage_adjust_on_hand_and_are_kept_in_the_ledger(inventory: Inventory) -> None:
    await inventory.product("OAT")
    await inventory.stock("rivoli", "OAT", 10)
    r = await inventory.http.post(
        "/v1/stores/rivoli/stock/OAT/adjustments", json={"delta": 12, "reason": "delivery"}, headers=staff("rivoli")
    )
    assert r.status_code == 200 and r.json() == {"sku": "OAT", "on_hand": 22, "reserved": 0, "available": 22}
    r = await inventory.http.post(
        "/v1/stores/rivoli/stock/OAT/adjustments", json={"delta": -1, "reason": "breakage"}, headers=ADMIN
    )
    assert r.json()["on_hand"] == 21
    r = await inventory.http.get("/v1/stores/rivoli/stock/OAT/ledger", headers=staff("rivoli"))
    entries = [{k: e[k] for k in ("kind", "reason", "actor", "before", "after", "delta")} for e in r.json()["entries"]]
    assert entries == [
        {"kind": "adjustment", "reason": "breakage", "actor": "admin:admin", "before": 22, "after": 21, "delta": -1},
        {"kind": "adjustment", "reason": "delivery", "actor": "staff:stf_1", "before": 10, "after": 22, "delta": 12},
        {"kind": "set", "reason": "set", "actor": "admin:admin", "before": 0, "after": 10, "delta": 10},
    ]
    assert all(e["at"] for e in r.json()["entries"])


async def test_the_ledger_pages_newest_first(inventory: Inventory) -> None:
    await inventory.product("OAT")
    for on_hand in range(1, 6):
        await inventory.stock("rivoli", "OAT", on_hand)
    first = (await inventory.http.get("/v1/stores/rivoli/stock/OAT/ledger?limit=2", headers=ADMIN)).json()["entries"]
    assert [e["after"] for e in first] == [5, 4]
    r = await inventory.http.get(f"/v1/stores/rivoli/stock/OAT/ledger?limit=2&before={first[-1]['id']}", headers=ADMIN)
    assert [e["after"] for e in r.json()["entries"]] == [3, 2]


async def test_a_first_delivery_creates_the_stock_row(inventory: Inventory) -> None:
    await inventory.product("OAT")
    r = await inventory.http.post(
        "/v1/stores/rivoli/stock/OAT/adjustments", json={"delta": 4, "reason": "delivery"}, headers=ADMIN
    )
    assert r.status_code == 200 and r.json()["available"] == 4


async def test_removing_what_is_reserved_is_409_naming_the_reserved_quantity(inventory: Inventory) -> None:
    await inventory.product("OAT")
    await inventory.stock("rivoli", "OAT", 5)
    await inventory.placed("dev_a", "rivoli", [("OAT", 3)])
    r = await inventory.http.post(
        "/v1/stores/rivoli/stock/OAT/adjustments", json={"delta": -3, "reason": "breakage"}, headers=ADMIN
    )
    assert r.status_code == 409 and r.json()["reserved"] == 3 and r.json()["field"] == "delta"
    r = await inventory.http.put("/v1/stores/rivoli/stock/OAT", json={"on_hand": 2}, headers=ADMIN)
    assert r.status_code == 409 and r.json()["reserved"] == 3
    assert await inventory.available("rivoli", "OAT") == 2  # on_hand 5, reserved 3: unchanged


async def test_removing_stock_a_store_does_not_have_is_409(inventory: Inventory) -> None:
    await inventory.product("OAT")
    r = await inventory.http.post(
        "/v1/stores/rivoli/stock/OAT/adjustments", json={"delta": -1, "reason": "breakage"}, headers=ADMIN
    )
    assert r.status_code == 409 and r.json()["on_hand"] == 0


async def test_an_adjustment_needs_a_reason_and_a_non_zero_delta(inventory: Inventory) -> None:
    await inventory.product("OAT")
    url = "/v1/stores/rivoli/stock/OAT/adjustments"
    r = await inventory.http.post(url, json={"delta": 0, "reason": "nothing"}, headers=ADMIN)
    assert r.status_code == 422 and r.json()["field"] == "delta"
    r = await inventory.http.post(url, json={"delta": 2}, headers=ADMIN)
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = await inventory.http.post(url, json={"delta": 2, "reason": ""}, headers=ADMIN)
    assert r.status_code == 422 and r.json()["field"] == "reason"


async def test_an_adjustment_past_the_largest_quantity_is_422(inventory: Inventory) -> None:
    await inventory.product("OAT")
    await inventory.stock("rivoli", "OAT", 9_999_999)
    r = await inventory.http.post(
        "/v1/stores/rivoli/stock/OAT/adjustments", json={"delta": 2, "reason": "delivery"}, headers=ADMIN
    )
    assert r.status_code == 422 and r.json()["field"] == "delta"
    assert await inventory.available("rivoli", "OAT") == 9_999_999


async def test_concurrent_breakages_never_take_on_hand_below_what_is_reserved(inventory: Inventory) -> None:
    await inventory.product("OAT")
    await inventory.stock("rivoli", "OAT", 10)
    await inventory.placed("dev_a", "rivoli", [("OAT", 4)])
    body = {"delta": -1, "reason": "breakage"}
    results = await asyncio.gather(
        *(inventory.http.post("/v1/stores/rivoli/stock/OAT/adjustments", json=body, headers=ADMIN) for _ in range(10))
    )
    assert sorted(r.status_code for r in results) == [200] * 6 + [409] * 4
    item = (await inventory.http.get("/v1/stores/rivoli/stock", params={"sku": "OAT"}, headers=ADMIN)).json()
    assert item["items"][0] == {"sku": "OAT", "on_hand": 4, "reserved": 4, "available": 0}


# ------------------------------------------------------------------------------ store scoping


async def test_staff_of_store_a_cannot_touch_the_stock_of_store_b(inventory: Inventory) -> None:
    await inventory.product("OAT")
    await inventory.stock("opera", "OAT", 5)
    b = staff("opera")
    assert (await inventory.http.put("/v1/stores/rivoli/stock/OAT", json={"on_hand": 1}, headers=b)).status_code == 403
    adjust = {"delta": 1, "reason": "delivery"}
    r = await inventory.http.post("/v1/stores/rivoli/stock/OAT/adjustments", json=adjust, headers=b)
    assert r.status_code == 403
    assert (await inventory.http.get("/v1/stores/rivoli/stock/OAT/ledger", headers=b)).status_code == 403
    r = await inventory.http.post("/v1/stores/opera/stock/OAT/adjustments", json=adjust, headers=b)
    assert r.status_code == 200


async def test_devices_cannot_change_stock_or_import(inventory: Inventory) -> None:
    await inventory.product("OAT")
    d = device("dev_a")
    assert (await inventory.http.put("/v1/stores/rivoli/stock/OAT", json={"on_hand": 1}, headers=d)).status_code == 403
    r = await inventory.http.post("/v1/stock/import", json={"rows": []}, headers=staff("rivoli"))
    assert r.status_code == 403


# --------------------------------------------------------------------------------------- events


async def test_falling_under_a_products_threshold_publishes_one_low_stock_event(
    inventory: Inventory, db: asyncpg.Connection
) -> None:
    await inventory.product("OAT", low_stock_threshold=3)
    r = await inventory.http.get("/v1/products/OAT", headers=ADMIN)
    assert r.json()["low_stock_threshold"] == 3
    await inventory.stock("rivoli", "OAT", 5)
    await inventory.placed("dev_a", "rivoli", [("OAT", 2)])  # 5 -> 3: low
    await inventory.placed("dev_b", "rivoli", [("OAT", 1)])  # 3 -> 2: still low, no second alert
    low = await db.fetch("SELECT store_id, data FROM bus.events WHERE type = 'stock.low'")
    assert [(e["store_id"], e["data"]) for e in low] == [
        ("rivoli", {"sku": "OAT", "before": 5, "after": 3, "on_hand": 5, "threshold": 3})
    ]


async def test_a_product_without_a_threshold_never_reports_low_stock(
    inventory: Inventory, db: asyncpg.Connection
) -> None:
    await inventory.product("OAT")
    await inventory.stock("rivoli", "OAT", 5)
    await inventory.stock("rivoli", "OAT", 0)
    assert await db.fetchval("SELECT count(*) FROM bus.events WHERE type = 'stock.low'") == 0


async def test_a_quantity_sent_as_text_is_422_naming_it(inventory: Inventory) -> None:
    await inventory.product("A")
    for value in ("5", "1e3", 2.5):
        r = await inventory.http.put("/v1/stores/s1/stock/A", json={"on_hand": value}, headers=ADMIN)
        assert r.status_code == 422, (value, r.text)
        assert r.json()["field"] == "on_hand"
