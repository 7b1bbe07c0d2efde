"""Which pings of an upload can be stored with a plain INSERT (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.geo.devices.schemas import PingIn
from services.geo.devices.service import split_new

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def at(seconds: int, lat: float = 48.86) -> PingIn:
    return PingIn(lat=lat, lng=2.35, accuracy_m=10.0, ts=T0 + timedelta(seconds=seconds))


def test_every_ping_of_a_device_never_seen_is_new() -> None:
    pings = [at(0), at(5), at(10)]
    assert split_new(pings, None) == (pings, [])


def test_pings_not_newer_than_the_cursor_may_be_stored_already() -> None:
    pings = [at(0), at(5), at(10), at(15)]
    assert split_new(pings, T0 + timedelta(seconds=5)) == (pings[2:], pings[:2])


def test_a_time_repeated_in_the_upload_is_new_once() -> None:
    first, again, later = at(10), at(10, lat=48.87), at(20)
    assert split_new([first, again, later], T0) == ([first, later], [again])
