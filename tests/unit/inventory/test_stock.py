"""Stock's rules alone: what is short of the lines asked for, and which events a change of availability
makes (the changes themselves, over HTTP: tests/service/inventory/test_stock.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from services.inventory.stock.availability import Line, shortages, stock_events

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

skus = st.text(alphabet="ABCDEFGH", min_size=1, max_size=3)


@given(st.dictionaries(skus, st.integers(1, 20), min_size=1), st.dictionaries(skus, st.integers(-5, 20)))
def test_a_line_is_short_exactly_when_it_wants_more_than_is_available(wanted: dict, available: dict) -> None:
    short = {s.sku: s for s in shortages([Line(sku, qty) for sku, qty in sorted(wanted.items())], available)}
    for sku, qty in wanted.items():
        have = max(available.get(sku, 0), 0)
        assert (sku in short) == (qty > have)
        if sku in short:
            assert short[sku].wanted == qty and short[sku].available == have


def types(before: int | None, after: int, threshold: int | None = None) -> list[str]:
    return [e.type for e in stock_events("s", "A", before, after, after, threshold, NOW)]


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
