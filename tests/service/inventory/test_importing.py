"""Bulk stock import over HTTP: all rows or none, every bad row explained, ledger lines and events
(the parsing alone: tests/unit/inventory/test_importing.py)."""

from __future__ import annotations

import asyncpg
import pytest

from tests.support.inventory import ADMIN, Inventory


@pytest.fixture
async def catalogue(inventory: Inventory) -> Inventory:
    for sku in ("A", "B", "C"):
        await inventory.product(sku, f"Product {sku}")
    return inventory


async def test_a_json_import_sets_every_row_with_ledger_lines_and_events(
    catalogue: Inventory, db: asyncpg.Connection
) -> None:
    await catalogue.stock("s1", "A", 5)
    rows = [
        {"store_id": "s1", "sku": "A", "on_hand": 9},
        {"store_id": "s1", "sku": "B", "on_hand": 4},
        {"store_id": "s2", "sku": "A", "on_hand": 0},
    ]
    r = await catalogue.http.post("/v1/stock/import", json={"rows": rows}, headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json() == {"rows": 3, "changed": 3, "unchanged": 0}
    assert await catalogue.available("s1", "A") == 9 and await catalogue.available("s1", "B") == 4
    ledger = await db.fetch(
        "SELECT store_id, sku, before, after, actor FROM inventory.stock_ledger WHERE kind = 'import' ORDER BY 1, 2"
    )
    assert [tuple(e) for e in ledger] == [
        ("s1", "A", 5, 9, "admin:admin"),
        ("s1", "B", 0, 4, "admin:admin"),
        ("s2", "A", 0, 0, "admin:admin"),
    ]
    changed = await db.fetch("SELECT store_id, data FROM bus.events WHERE type = 'stock.changed' ORDER BY id")
    assert [(e["store_id"], e["data"]["sku"], e["data"]["before"], e["data"]["after"]) for e in changed[-3:]] == [
        ("s1", "A", 5, 9),
        ("s1", "B", 0, 4),
        ("s2", "A", 0, 0),
    ]


async def test_a_csv_import_works_the_same(catalogue: Inventory) -> None:
    csv = b"store_id,sku,on_hand\ns1,A,7\ns1,C,2\n"
    r = await catalogue.http.post("/v1/stock/import", content=csv, headers={**ADMIN, "content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert await catalogue.available("s1", "A") == 7 and await catalogue.available("s1", "C") == 2


async def test_rows_that_change_nothing_write_nothing(catalogue: Inventory, db: asyncpg.Connection) -> None:
    await catalogue.stock("s1", "A", 5)
    before = await db.fetchval("SELECT count(*) FROM bus.events")
    r = await catalogue.http.post(
        "/v1/stock/import", json={"rows": [{"store_id": "s1", "sku": "A", "on_hand": 5}]}, headers=ADMIN
    )
    assert r.json() == {"rows": 1, "changed": 0, "unchanged": 1}
    assert await db.fetchval("SELECT count(*) FROM bus.events") == before


async def test_one_bad_row_imports_nothing_and_every_bad_row_is_listed(catalogue: Inventory) -> None:
    await catalogue.stock("s1", "A", 5)
    await catalogue.placed("dev_a", "s1", [("A", 3)])
    csv = (
        b"store_id,sku,on_hand\n"
        b"s1,B,10\n"  # fine on its own
        b"s1,A,2\n"  # below the 3 reserved
        b"s1,NOPE,1\n"  # unknown product
        b"s1,C,-4\n"  # negative
        b"s1,B,11\n"  # same item twice
    )
    r = await catalogue.http.post("/v1/stock/import", content=csv, headers={**ADMIN, "content-type": "text/csv"})
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == "rows" and "nothing was imported" in body["detail"]
    assert [(e["row"], e["field"]) for e in body["errors"]] == [
        (2, "on_hand"),
        (3, "sku"),
        (4, "on_hand"),
        (5, "sku"),
    ]
    assert "3 unit(s) reserved" in body["errors"][0]["reason"] and "NOPE" in body["errors"][1]["reason"]
    assert await catalogue.available("s1", "B") == 0
    assert await catalogue.available("s1", "A") == 2  # on_hand 5, reserved 3, as before


async def test_an_import_needs_json_or_csv(catalogue: Inventory) -> None:
    r = await catalogue.http.post(
        "/v1/stock/import", content=b"<rows/>", headers={**ADMIN, "content-type": "application/xml"}
    )
    assert r.status_code == 415


async def test_a_large_csv_import_goes_through_in_one_request(catalogue: Inventory, db: asyncpg.Connection) -> None:
    lines = b"".join(f"store{i:04d},{sku},{i % 50}\n".encode() for i in range(2000) for sku in ("A", "B", "C"))
    r = await catalogue.http.post(
        "/v1/stock/import", content=b"store_id,sku,on_hand\n" + lines, headers={**ADMIN, "content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == 6000
    assert await db.fetchval("SELECT sum(on_hand) FROM inventory.stock") == 3 * sum(i % 50 for i in range(2000))
