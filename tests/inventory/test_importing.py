"""Bulk stock import: JSON or CSV, all rows or none, every bad row explained."""

from __future__ import annotations

import asyncpg
import pytest

from services.inventory.stock.importing import MAX_ROWS, RowError, parse_csv, parse_json
from shared.errors import BadRequest, Invalid, TooLarge
from tests.inventory.conftest import ADMIN, Inventory

# ------------------------------------------------------------------------------------- parsing


def test_a_clean_json_import_gives_numbered_rows() -> None:
    parsed = parse_json(
        b'{"rows": [{"store_id": "s1", "sku": "A", "on_hand": 3}, {"store_id": "s1", "sku": "B", "on_hand": 0}]}'
    )
    assert parsed.errors == []
    assert parsed.records == [(1, "s1", "A", 3), (2, "s1", "B", 0)]


def test_every_bad_json_row_is_reported_with_its_number_and_field() -> None:
    parsed = parse_json(
        b'{"rows": ['
        b'{"store_id": "s1", "sku": "A", "on_hand": 3},'
        b'{"store_id": "s1", "sku": "B", "on_hand": -1},'
        b'{"store_id": "s 1", "sku": "C", "on_hand": 1},'
        b'{"store_id": "s1", "on_hand": 1},'
        b'{"store_id": "s1", "sku": "D", "on_hand": "4"},'
        b"7,"
        b'{"store_id": "s1", "sku": "E", "on_hand": 5}'
        b"]}"
    )
    assert [(e.row, e.field, e.reason) for e in parsed.errors] == [
        (2, "on_hand", "must be 0 or more"),
        (3, "store_id", "must be 1-64 characters of letters, digits, '.', '_', ':' or '-'"),
        (4, "sku", "missing"),
        (5, "on_hand", "must be a whole number"),
        (6, "row", "Expected `object`, got `int`"),
    ]
    assert parsed.records == [(1, "s1", "A", 3), (7, "s1", "E", 5)]


def test_csv_columns_may_come_in_any_order_with_a_byte_order_mark_and_blank_lines() -> None:
    parsed = parse_csv(b"\xef\xbb\xbfSKU, on_hand ,store_id\r\nA,3,s1\r\n\r\n B ,0, s2 \r\n")
    assert parsed.errors == []
    assert parsed.records == [(1, "s1", "A", 3), (2, "s2", "B", 0)]


def test_every_bad_csv_row_is_reported() -> None:
    parsed = parse_csv(b"store_id,sku,on_hand\ns1,A,three\ns1,B\ns1,C,-2\ns1,D,4\ns1,E,1,2\n")
    assert parsed.errors == [
        RowError(1, "on_hand", "must be a whole number"),
        RowError(2, "row", "expected 3 fields, got 2"),
        RowError(3, "on_hand", "must be 0 or more"),
        RowError(5, "row", "expected 3 fields, got 4"),
    ]
    assert parsed.records == [(4, "s1", "D", 4)]


@pytest.mark.parametrize("header", [b"", b"store,sku,on_hand\n", b"store_id,sku\n", b"store_id,sku,on_hand,price\n"])
def test_a_csv_without_the_three_columns_is_refused_whole(header: bytes) -> None:
    with pytest.raises(Invalid) as refused:
        parse_csv(header + b"s1,A,3\n")
    assert refused.value.field == "header"


def test_unreadable_input_is_400() -> None:
    with pytest.raises(BadRequest):
        parse_json(b'{"rows": [')
    with pytest.raises(BadRequest):
        parse_csv(b"store_id,sku,on_hand\n\xff\xfe,A,1\n")
    with pytest.raises(Invalid):
        parse_json(b'{"lines": []}')


def test_more_rows_than_allowed_is_413() -> None:
    with pytest.raises(TooLarge):
        parse_csv(b"store_id,sku,on_hand\n" + b"s1,A,1\n" * (MAX_ROWS + 1))


# --------------------------------------------------------------------------------------- HTTP


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


def test_a_bare_list_of_rows_is_read_like_a_rows_document() -> None:
    from services.inventory.stock.importing import parse_json

    bare = parse_json(b'[{"store_id": "s1", "sku": "A", "on_hand": 3}]')
    wrapped = parse_json(b'{"rows": [{"store_id": "s1", "sku": "A", "on_hand": 3}]}')
    assert bare == wrapped and not bare.errors
