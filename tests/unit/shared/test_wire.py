"""The id rule, strict JSON bodies and the list patterns the OpenAPI documents state."""

from __future__ import annotations

import re

import msgspec
import pytest

from shared.wire import ID, ID_PATTERN, Id, comma_separated, decode_strict, one_of


@pytest.mark.parametrize("value", ["a", "A-1", "x.y_z:0", "a" * 64])
def test_an_id_is_1_to_64_letters_digits_and_dot_underscore_colon_dash(value: str) -> None:
    assert msgspec.convert(value, Id) == value
    assert re.search(ID_PATTERN, value)


@pytest.mark.parametrize("value", ["", "a" * 65, "-a", ".", "a b", "a/b", "é", "a\n", "\na", "a\x00"])
def test_anything_else_is_no_id_not_even_with_a_trailing_newline(value: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(value, Id)
    assert not re.search(ID_PATTERN, value)


class Counted(msgspec.Struct):
    n: int
    x: float
    tags: list[int] = []


def test_a_whole_number_written_as_a_float_is_that_integer() -> None:
    assert decode_strict(b'{"n": 2.0, "x": 1, "tags": [3.0, 1e2]}', Counted) == Counted(2, 1.0, [3, 100])


@pytest.mark.parametrize("body", [b'{"n": 2.5, "x": 1}', b'{"n": "2", "x": 1}', b'{"n": 2, "x": "1"}'])
def test_a_fraction_or_a_string_is_still_refused(body: bytes) -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_strict(body, Counted)


def _items(value: str) -> list[str]:
    """How the handlers read a comma-separated parameter."""
    return [item.strip() for item in value.split(",") if item.strip()]


STATUSES = ("reserved", "ready", "collected", "canceled")


@pytest.mark.parametrize(
    "value", ["ready", "reserved,ready", " ready , canceled ", "ready,,collected", ",ready,", "x", "ready,x", "", " , "]
)
def test_a_list_pattern_matches_what_the_handler_accepts(value: str) -> None:
    some = re.compile(comma_separated(one_of(STATUSES), at_least_one=True))
    any_ = re.compile(comma_separated(ID, at_least_one=False))
    accepted = all(item in STATUSES for item in _items(value))
    assert bool(some.search(value)) == (accepted and bool(_items(value)))
    assert bool(any_.search(value)) == all(re.search(ID_PATTERN, item) for item in _items(value))


def test_the_id_type_states_its_rule() -> None:
    schema = msgspec.json.schema(Id)
    assert (schema["pattern"], schema["minLength"], schema["maxLength"]) == (ID_PATTERN, 1, 64)
