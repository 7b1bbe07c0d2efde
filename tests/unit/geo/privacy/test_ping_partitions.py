"""The plan of geo.pings' hourly partitions: which hours must exist, which may go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.geo.devices.service import MAX_FUTURE
from services.geo.privacy.partitions import (
    HEADROOM,
    HOUR,
    RETIRE_GRACE,
    Plan,
    expired,
    hour_named,
    hour_of,
    name_of,
    plan,
    wanted,
)

DAY = timedelta(hours=24)
PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)

moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))
retentions = st.integers(min_value=1, max_value=24 * 14).map(lambda h: timedelta(hours=h))


def test_a_partition_is_named_for_its_utc_hour_and_read_back() -> None:
    assert name_of(datetime(2026, 12, 2, 14, 59, 59, 999999, tzinfo=UTC)) == "pings_p2026120214"
    assert hour_named("pings_p2026120214") == T0
    assert name_of(datetime(2026, 12, 2, 15, 30, tzinfo=PARIS)) == "pings_p2026120214"  # 14:30 UTC


def test_tables_that_are_not_hourly_partitions_are_not_read_as_hours() -> None:
    for name in ("pings", "pings_unpartitioned", "pings_p20261202", "pings_p2026133099", "pings_p2026120214_old"):
        assert hour_named(name) is None, name


def test_an_hour_starts_exactly_at_its_boundary() -> None:
    assert hour_of(T0) == T0
    assert hour_of(T0 - timedelta(microseconds=1)) == T0 - HOUR
    assert hour_of(T0 + HOUR - timedelta(microseconds=1)) == T0


def test_the_window_runs_from_the_oldest_accepted_hour_to_the_headroom_past_the_newest() -> None:
    now = T0 + timedelta(minutes=58)  # 14:58: the accepted future bound, 15:03, is in the next hour
    hours = wanted(now, DAY, MAX_FUTURE)
    assert hours[0] == T0 - DAY  # a ping of 14:58 yesterday is still accepted
    assert hour_of(now + MAX_FUTURE) == T0 + HOUR and T0 + HOUR in hours
    assert hours[-1] == hour_of(now + MAX_FUTURE + HEADROOM) == T0 + 7 * HOUR
    assert hours == [T0 - DAY + i * HOUR for i in range(len(hours))]  # contiguous


def test_across_a_daylight_saving_change_every_hour_has_one_partition() -> None:
    # 25 October 2026: Paris clocks go back from 03:00 to 02:00; a local "02:30" happens twice.
    now = datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1)  # the second one, 01:30 UTC
    hours = wanted(now, timedelta(hours=3), MAX_FUTURE)
    assert [h.utcoffset() for h in hours] == [timedelta(0)] * len(hours)
    assert [b - a for a, b in zip(hours, hours[1:], strict=False)] == [HOUR] * (len(hours) - 1)
    names = [name_of(h) for h in hours]
    assert len(set(names)) == len(names)
    assert names[:4] == ["pings_p2026102422", "pings_p2026102423", "pings_p2026102500", "pings_p2026102501"]
    in_utc = now.astimezone(UTC)
    assert hours == wanted(in_utc, timedelta(hours=3), MAX_FUTURE)
    later = datetime(2026, 10, 25, 4, 0, tzinfo=PARIS)  # 03:00 UTC: 22:00-23:00 is 3 h 5 min behind
    assert expired(hours, later, timedelta(hours=3)) == expired(hours, later.astimezone(UTC), timedelta(hours=3))
    assert expired(hours, later, timedelta(hours=3)) == hours[:1]


def test_a_partition_goes_once_its_whole_hour_is_older_than_the_retention_and_the_grace() -> None:
    hour = T0 - DAY - HOUR  # 13:00 to 14:00 yesterday
    edge = hour + HOUR + DAY + RETIRE_GRACE  # its last instant is now exactly retention + grace old
    assert expired([hour], edge, DAY) == [hour]
    assert expired([hour], edge - timedelta(microseconds=1), DAY) == []
    assert expired([hour + HOUR], edge, DAY) == []  # the next hour still holds accepted pings


def test_the_plan_creates_what_is_missing_and_retires_what_is_old_attached_or_not() -> None:
    now = T0 + timedelta(minutes=10)
    window = wanted(now, DAY, MAX_FUTURE)
    old, leftover = T0 - 30 * HOUR, T0 - 40 * HOUR
    p = plan([old, *window[:-2]], [leftover], now, DAY, MAX_FUTURE)
    assert p.create == window[-2:]
    assert p.retire == [leftover, old]
    assert plan(window, [], now, DAY, MAX_FUTURE) == Plan(create=[], retire=[])  # nothing to do


def test_a_detached_partition_inside_the_window_is_attached_again() -> None:
    now = T0 + timedelta(minutes=10)
    window = wanted(now, DAY, MAX_FUTURE)
    p = plan(window[1:], [window[0]], now, DAY, MAX_FUTURE)
    assert p.create == [window[0]] and p.retire == []


@given(
    moments,
    retentions,
    st.timedeltas(min_value=timedelta(0), max_value=HEADROOM - timedelta(microseconds=1)),
    st.floats(min_value=0, max_value=1),
)
def test_a_ping_accepted_until_the_headroom_runs_out_has_its_partition(
    planned_at: datetime, retention: timedelta, later: timedelta, where: float
) -> None:
    """Planned at `planned_at` and not again: a ping accepted `later` (its ts anywhere from the
    retention back to the future bound) falls in an hour that was planned."""
    now = planned_at + later
    ts = now - retention + (retention + MAX_FUTURE) * where
    assert hour_of(ts) in wanted(planned_at, retention, MAX_FUTURE)


@given(
    moments,
    retentions,
    st.timedeltas(min_value=-RETIRE_GRACE, max_value=timedelta(days=3)),
    st.floats(min_value=0, max_value=1),
)
def test_no_accepted_ping_falls_in_a_retired_hour(
    retired_at: datetime, retention: timedelta, after: timedelta, where: float
) -> None:
    """Whatever a replica accepts from the retirement on (its clock up to the grace behind), no hour
    it may write to was retired; and every hour of the window is kept."""
    window = wanted(retired_at, retention, MAX_FUTURE)
    everything = [window[0] - i * HOUR for i in range(1, 48)] + window
    gone = set(expired(everything, retired_at, retention))
    assert gone.isdisjoint(window)
    now = retired_at + after
    ts = now - retention + (retention + MAX_FUTURE) * where
    assert hour_of(ts) not in gone
