"""Reading a stock import (JSON or CSV) into rows, with every bad row explained. Pure, no I/O.

Rows are numbered from 1 in the order given: the first element of "rows", or the first CSV line
after the header (blank lines are not rows). What only the database can tell (an unknown SKU, a
quantity below what orders hold, the same store and SKU twice) is checked after staging the rows.
"""

from __future__ import annotations

import csv
import io
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from services.inventory.catalog.schemas import Quantity
from shared.errors import BadRequest, Invalid, TooLarge
from shared.wire import Id, decode_strict, whole_numbers

MAX_ROWS = 200_000
COLUMNS = ("store_id", "sku", "on_hand")


class ImportRow(msgspec.Struct, frozen=True):
    store_id: Id
    sku: Id
    on_hand: Quantity


class _CsvRow(ImportRow, array_like=True, frozen=True):
    """The same row, read straight from a CSV record's fields (in COLUMNS order)."""


class _Document(msgspec.Struct):
    rows: list[ImportRow]


class _LooseDocument(msgspec.Struct):
    rows: list[Any]


JSON_SCHEMA = {
    "description": '`{"rows": [...]}` or the list of rows alone',
    "oneOf": [
        {
            "type": "object",
            "properties": {"rows": {"type": "array", "items": {"$ref": ImportRow}}},
            "required": ["rows"],
        },
        {"type": "array", "items": {"$ref": ImportRow}},
    ],
}
CSV_SCHEMA = {
    "description": "A header naming store_id, sku and on_hand (any order), then one row per line; UTF-8",
    "type": "string",
}
"""What `parse_json` and `parse_csv` read, for the OpenAPI document (`{"$ref": <type>}` names a type)."""


@dataclass(frozen=True, order=True)
class RowError:
    row: int
    field: str
    reason: str


Record = tuple[int, str, str, int]  # row number, store_id, sku, on_hand: what is staged with COPY


@dataclass(frozen=True)
class Parsed:
    records: list[Record]  # the rows that are well-formed
    errors: list[RowError]


_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?:(?:\.(?P<name>\w+))|(?:\[(?P<index>\d+)\]))?.*`)?$")
_MISSING = re.compile(r"Object missing required field `(\w+)`")
_REASONS = {
    "Expected `int`, got `str`": "must be a whole number",
    "Expected `int` >= 0": "must be 0 or more",
    "Expected `int` <= 10000000": "must be at most 10000000",
}


def _explain(exc: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's message about one row, as (field, reason) a person can act on."""
    message = str(exc)
    if missing := _MISSING.search(message):
        return missing.group(1), "missing"
    match = _AT.match(message)
    if match is None:
        return "row", message
    reason = match.group("reason")
    field = match.group("name") or (COLUMNS[int(match.group("index"))] if match.group("index") else "row")
    if "matching regex" in reason:
        reason = "must be 1-64 characters of letters, digits, '.', '_', ':' or '-'"
    return field, _REASONS.get(reason, reason)


def _records(numbered: Iterable[tuple[int, ImportRow]]) -> list[Record]:
    return [(number, r.store_id, r.sku, r.on_hand) for number, r in numbered]


def _check_size(count: int) -> None:
    if count > MAX_ROWS:
        raise TooLarge(f"at most {MAX_ROWS} rows per import", field="rows")


def parse_json(body: bytes) -> Parsed:
    """`{"rows": [{"store_id", "sku", "on_hand"}, ...]}`, or the list of rows alone; types checked
    strictly (no "12" for 12)."""
    bare = body.lstrip()[:1] == b"["
    try:
        try:  # a clean document decodes straight into rows
            rows: list[ImportRow] = (
                decode_strict(body, list[ImportRow]) if bare else decode_strict(body, _Document).rows
            )
            _check_size(len(rows))
            return Parsed(_records(enumerate(rows, start=1)), [])
        except msgspec.ValidationError:
            items = (
                msgspec.json.decode(body, type=list[Any])
                if bare
                else msgspec.json.decode(body, type=_LooseDocument).rows
            )
    except msgspec.ValidationError as exc:
        raise Invalid(f'the body must be {{"rows": [...]}} or a list of rows: {exc}', field="rows") from exc
    except msgspec.DecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc
    _check_size(len(items))
    good, errors = [], []
    for number, item in enumerate(items, start=1):
        try:
            good.append((number, msgspec.convert(whole_numbers(item), ImportRow)))
        except msgspec.ValidationError as exc:
            errors.append(RowError(number, *_explain(exc)))
    return Parsed(_records(good), errors)


def parse_csv(body: bytes) -> Parsed:
    """A header naming store_id, sku and on_hand (any order), then one row per line. UTF-8, with or
    without the byte-order mark spreadsheets write; spaces around a value are ignored."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the CSV must be UTF-8: {exc}") from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        lines = [fields for fields in reader if len(fields) > 1 or (fields and fields[0].strip())]
    except csv.Error as exc:
        raise BadRequest(f"unreadable CSV at line {reader.line_num}: {exc}") from exc
    if sorted(header) != sorted(COLUMNS):
        raise Invalid(
            f"the first line must name the columns {', '.join(COLUMNS)}; got {', '.join(header) or 'nothing'}",
            field="header",
        )
    _check_size(len(lines))
    position = [header.index(name) for name in COLUMNS]
    try:  # the common case, a clean file, converted in one pass without touching each row in Python
        in_order = lines if position == [0, 1, 2] else list(map(operator.itemgetter(*position), lines))
        rows = msgspec.convert(in_order, list[_CsvRow], strict=False)
        return Parsed(_records(enumerate(rows, start=1)), [])
    except (msgspec.ValidationError, IndexError):
        pass
    good, errors = [], []
    for number, fields in enumerate(lines, start=1):
        if len(fields) != len(COLUMNS):
            errors.append(RowError(number, "row", f"expected {len(COLUMNS)} fields, got {len(fields)}"))
            continue
        try:
            good.append((number, msgspec.convert([fields[i].strip() for i in position], _CsvRow, strict=False)))
        except msgspec.ValidationError as exc:
            errors.append(RowError(number, *_explain(exc)))
    return Parsed(_records(good), errors)
