"""Ids and codes are matched in full: Python's `$` also matches before a final newline, so "ord_x\n"
would pass a pattern ending in `$` read with `re.match` or msgspec's search."""

from __future__ import annotations

import re

import msgspec
import pytest

from shared.errors import Invalid
from shared.wire import ID_PATTERN, Id, Locale, check_id


class Thing(msgspec.Struct):
    thing_id: Id
    locale: Locale = "en"


@pytest.mark.parametrize("bad", ["ord_x\n", "ord_x\r\n", "ord_x\n\n", "\nord_x", "ord\nx", "ord x", "", "x" * 65])
def test_an_id_is_refused_unless_the_whole_value_follows_the_rule(bad: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_id(bad, "order_id")
    assert refused.value.field == "order_id"
    with pytest.raises(msgspec.ValidationError, match=r"thing_id"):
        msgspec.convert({"thing_id": bad}, Thing)


@pytest.mark.parametrize("good", ["ord_x", "a", "rivoli", "dev_Yb4Fk0Fh8GQgYOJc0iDY7w", "sku:12.3-a", "x" * 64])
def test_an_id_following_the_rule_passes(good: str) -> None:
    assert check_id(good, "order_id") == good
    assert msgspec.convert({"thing_id": good}, Thing).thing_id == good


def test_the_documented_pattern_means_the_same_read_as_a_json_schema_reads_it() -> None:
    # ECMA-262 has no `\Z`: the pattern in the documents is anchored by `^` and `$`, which there end at
    # the string's end only, and Python reads it the same because of its `(?!\n)`.
    assert re.search(ID_PATTERN, "ord_x") and not re.search(ID_PATTERN, "ord_x\n")


@pytest.mark.parametrize("bad", ["en\n", "fr-FR\n", "en\nfr"])
def test_a_locale_with_a_newline_is_refused(bad: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"locale"):
        msgspec.convert({"thing_id": "t", "locale": bad}, Thing)
