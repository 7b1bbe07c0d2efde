"""Lists that could grow without bound come a page at a time, each page bounded."""

from __future__ import annotations

from tests.support.inventory import ADMIN, Inventory, device


async def test_a_shoppers_orders_come_newest_first_a_page_at_a_time_and_all_of_them(inventory: Inventory) -> None:
    await inventory.product("OAT", "Oat milk 1L")
    await inventory.stock("rivoli", "OAT", 100)
    placed = [(await inventory.placed("dev_a", "rivoli", [("OAT", 1)]))["order_id"] for _ in range(7)]
    seen, before = [], None
    while True:
        params = {"limit": 3, **({"before": before} if before else {})}
        r = await inventory.http.get("/v1/devices/dev_a/orders", params=params, headers=device("dev_a"))
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["orders"]) <= 3
        seen += [o["order_id"] for o in page["orders"]]
        before = page.get("next_before")
        if before is None:
            break
    assert sorted(seen) == sorted(placed) and len(seen) == 7
    r = await inventory.http.get("/v1/devices/dev_a/orders", params={"limit": 501}, headers=device("dev_a"))
    assert r.status_code == 400 or r.status_code == 422


async def test_a_stores_stock_without_a_filter_comes_by_sku_a_page_at_a_time(inventory: Inventory) -> None:
    rows = [{"store_id": "rivoli", "sku": f"P{i:03}", "on_hand": i} for i in range(12)]
    for row in rows:
        await inventory.product(row["sku"], f"Product {row['sku']}")
    r = await inventory.http.post("/v1/stock/import", json={"rows": rows}, headers=ADMIN)
    assert r.status_code == 200, r.text
    skus, after = [], None
    while True:
        params = {"limit": 5, **({"after": after} if after else {})}
        page = (await inventory.http.get("/v1/stores/rivoli/stock", params=params, headers=ADMIN)).json()
        assert len(page["items"]) <= 5
        skus += [i["sku"] for i in page["items"]]
        if (after := page.get("next_after")) is None:
            break
    assert skus == [row["sku"] for row in rows]
    r = await inventory.http.get("/v1/stores/rivoli/stock", params={"limit": 501}, headers=ADMIN)
    assert r.status_code == 400 or r.status_code == 422


async def test_alternatives_are_the_best_few_of_the_same_category(inventory: Inventory) -> None:
    await inventory.product("OAT", "Oat milk 1L")
    for i in range(15):
        await inventory.product(f"MILK{i}", f"Milk drink {i}")
        await inventory.stock("rivoli", f"MILK{i}", 1 + i)
    await inventory.product("HAMMER", "Hammer", category="tools")
    await inventory.stock("rivoli", "HAMMER", 50)
    r = await inventory.http.get("/v1/stores/rivoli/alternatives/OAT", params={"limit": 4}, headers=ADMIN)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 4 and all(i["category"] == "dairy" for i in items)
    default = (await inventory.http.get("/v1/stores/rivoli/alternatives/OAT", headers=ADMIN)).json()["items"]
    assert len(default) == 10


async def test_the_catalogue_is_searched_by_sku_start_or_name_in_any_language_a_page_at_a_time(
    inventory: Inventory,
) -> None:
    await inventory.product("OAT-1L", "Oat milk 1L", names={"fr": "Lait d'avoine 1 L"})
    await inventory.product("OAT-2L", "Oat milk 2L")
    await inventory.product("SOY-1L", "Soy drink", names={"fr": "Boisson au soja"})
    await inventory.product("X_100", "100% cocoa")
    await inventory.product("XA100", "Cocoa nibs")

    async def found(**params: object) -> list[str]:
        r = await inventory.http.get("/v1/products", params=params, headers=device("dev_a"))
        assert r.status_code == 200, r.text
        return [p["sku"] for p in r.json()["products"]]

    assert await found(q="oat") == ["OAT-1L", "OAT-2L"]  # SKU start, and name, case aside
    assert await found(q="AVOINE") == ["OAT-1L"]  # a localized name
    assert await found(q="milk", limit=1) == ["OAT-1L"]
    assert await found(q="milk", after="OAT-1L") == ["OAT-2L"]
    assert await found(q="X_") == ["X_100"]  # `_` is a character here, not LIKE's wildcard
    assert await found(q="0%") == ["X_100"]
    assert len(await found()) == 5
    for bad in ("x" * 101, "oat\x00", "oat\n"):
        r = await inventory.http.get("/v1/products", params={"q": bad}, headers=device("dev_a"))
        assert r.status_code == 422 and r.json()["field"] == "q", r.text
