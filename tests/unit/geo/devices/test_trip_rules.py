"""Trip statuses: forward only, each once, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.geo.devices.presence import Fix
from services.geo.devices.progress import Trip, end, on_fix, on_zone_entered, speed_of
from shared.geodesy import destination

STORE = (48.86, 2.347)
T0 = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def trip(status: str = "started", mode: str = "car") -> Trip:
    return Trip("t1", "s1", mode, status, *STORE)


def fix_at(distance: float, seconds: float = 0, speed: float | None = None) -> Fix:
    return Fix(T0 + timedelta(seconds=seconds), *destination(*STORE, 45, distance), 8, speed)


def test_far_away_the_trip_only_updates_its_eta() -> None:
    t, reached = on_fix(trip(), fix_at(10_000), None, set(), 300)
    assert reached == [] and t.status == "started" and t.eta_s == round(10_000 / 8.3)


def test_under_five_minutes_away_the_trip_is_approaching() -> None:
    t, reached = on_fix(trip(), fix_at(2_000, speed=10), 10, set(), 300)
    assert reached == ["approaching"] and t.eta_s == 200


def test_arriving_without_having_been_seen_approaching_reports_both_in_order() -> None:
    t, reached = on_fix(trip(), fix_at(5), None, {"pickup"}, 300)
    assert reached == ["approaching", "arrived"] and t.eta_s == 0


def test_a_beacon_in_the_bay_counts_as_arrival() -> None:
    assert on_zone_entered(trip("approaching"), "pickup")[1] == ["arrived"]
    assert on_zone_entered(trip("arrived"), "approach")[1] == []


def test_an_arrived_trip_does_not_expire_but_completes() -> None:
    assert end(trip("arrived"), "expired") == (trip("arrived"), [])
    assert end(trip("arrived"), "completed")[1] == ["completed"]
    assert end(trip("completed"), "canceled")[1] == []


def test_speed_comes_from_the_phone_or_from_two_fixes() -> None:
    assert speed_of(fix_at(0, speed=12), None) == 12
    assert round(speed_of(fix_at(0, 10), fix_at(100, 0))) == 10
    assert speed_of(fix_at(0, 10, speed=0.2), fix_at(0.5, 0)) is None  # standing still


signals = st.lists(
    st.one_of(
        st.tuples(st.just("fix"), st.floats(0, 20_000), st.sampled_from([set(), {"approach"}, {"store"}, {"pickup"}])),
        st.tuples(st.just("zone"), st.just(0.0), st.sampled_from([{"approach"}, {"pickup"}, {"department"}])),
    ),
    max_size=40,
)


@given(signals)
def test_statuses_only_move_forward_and_each_is_reached_once(signals) -> None:
    t, seen = trip(), []
    for i, (kind, distance, zones) in enumerate(signals):
        if kind == "fix":
            t, reached = on_fix(t, fix_at(distance, i), None, zones, 300)
        else:
            t, reached = on_zone_entered(t, next(iter(zones)))
        seen += reached
    assert seen == ["approaching", "arrived"][: len(seen)]
