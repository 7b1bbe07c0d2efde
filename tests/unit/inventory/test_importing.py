"""Bulk stock import, the parsing: JSON or CSV, every bad row explained (over HTTP, with the database:
tests/service/inventory/test_importing.py)."""

from __future__ import annotations

import pytest

from services.inventory.stock.importing import MAX_ROWS, RowError, parse_csv, parse_json
from shared.errors import BadRequest, Invalid, TooLarge


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


def test_a_bare_list_of_rows_is_read_like_a_rows_document() -> None:
    from services.inventory.stock.importing import parse_json

    bare = parse_json(b'[{"store_id": "s1", "sku": "A", "on_hand": 3}]')
    wrapped = parse_json(b'{"rows": [{"store_id": "s1", "sku": "A", "on_hand": 3}]}')
    assert bare == wrapped and not bare.errors
