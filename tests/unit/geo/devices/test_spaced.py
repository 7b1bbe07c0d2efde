"""Which of the pings applied are stored: at most one per interval of event time (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.geo.devices.schemas import PingIn
from services.geo.devices.service import spaced

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def at(seconds: float) -> PingIn:
    return PingIn(lat=48.86, lng=2.35, accuracy_m=10.0, ts=T0 + timedelta(seconds=seconds))


def test_ten_fixes_a_second_keep_one_a_second() -> None:
    pings = [at(i / 10) for i in range(35)]
    assert [p.ts for p in spaced(pings, None, SECOND)] == [at(s).ts for s in (0, 1, 2, 3)]


def test_the_interval_counts_from_the_fix_stored_before() -> None:
    pings = [at(0.5), at(0.99), at(1.0), at(1.5), at(2.2)]
    assert spaced(pings, T0, SECOND) == [pings[2], pings[4]]


def test_fixes_further_apart_are_all_kept_and_none_with_no_interval_is_lost() -> None:
    pings = [at(0), at(5), at(10)]
    assert spaced(pings, None, SECOND) == pings
    dense = [at(i / 10) for i in range(5)]
    assert spaced(dense, None, timedelta(0)) == dense
