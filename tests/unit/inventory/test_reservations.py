"""The rules of pickup orders, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inventory.orders.reservations import (
    MOVES,
    STATUSES,
    Holds,
    clean_display_name,
    lines_of,
)
from services.inventory.stock.availability import Line
from shared.errors import Invalid

skus = st.text(alphabet="ABCDEFGH", min_size=1, max_size=3)


def test_lines_come_out_sorted_by_sku() -> None:
    assert lines_of([("YOG", 1), ("APL", 2), ("OAT", 3)]) == [Line("APL", 2), Line("OAT", 3), Line("YOG", 1)]


def test_a_sku_on_two_lines_is_refused_naming_the_second_line() -> None:
    with pytest.raises(Invalid) as refused:
        lines_of([("OAT", 1), ("YOG", 1), ("OAT", 2)])
    assert refused.value.field == "lines[2].sku"


@given(st.dictionaries(skus, st.integers(1, 999), min_size=1))
def test_lines_keep_every_sku_once_in_order(given_lines: dict[str, int]) -> None:
    lines = lines_of(list(given_lines.items()))
    assert [line.sku for line in lines] == sorted(given_lines)
    assert {line.sku: line.qty for line in lines} == given_lines


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("  Camille ", "Camille"),
        ("Jean \t Pierre", "Jean Pierre"),
        ("x" * 40, "x" * 40),
        ("Zoë 👩‍👩‍👧", "Zoë 👩‍👩‍👧"),
    ],
)
def test_a_display_name_is_trimmed_and_blank_means_none(raw: str | None, clean: str | None) -> None:
    assert clean_display_name(raw) == clean


@pytest.mark.parametrize("raw", ["x" * 41, "Cam\x00ille", "Cam\x1bille", "evil\u202egnp.exe"])
def test_a_long_name_or_one_with_control_characters_is_refused(raw: str) -> None:
    with pytest.raises(Invalid) as refused:
        clean_display_name(raw)
    assert refused.value.field == "display_name"


def test_the_lifecycle_allows_exactly_its_moves() -> None:
    allowed = {(status, action): target for action, (sources, target) in MOVES.items() for status in sources}
    assert allowed == {
        ("reserved", "ready"): "ready",
        ("reserved", "cancel"): "canceled",
        ("ready", "collected"): "collected",
        ("ready", "cancel"): "canceled",
    }
    assert set(STATUSES) == {"reserved", "ready", "collected", "canceled"}


def test_an_order_lapses_after_its_hold_in_the_status_it_waits_in() -> None:
    holds = Holds(prepare=timedelta(days=7), pickup=timedelta(hours=48))
    placed = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    ready = placed + timedelta(hours=3)
    assert holds.expires_at("reserved", placed, None) == placed + timedelta(days=7)
    assert holds.expires_at("ready", placed, ready) == ready + timedelta(hours=48)
    assert holds.expires_at("collected", placed, ready) is None
    now = ready + timedelta(hours=48)
    assert holds.cutoffs(now) == (now - timedelta(days=7), ready)
