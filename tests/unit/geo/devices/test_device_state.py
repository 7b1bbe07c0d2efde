"""A device's state on its own, without a database: what it decides, and what it says changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.geo.devices.device_state import DeviceState, TripState
from services.geo.devices.presence import Fix, Presence, Rules
from services.geo.devices.progress import Trip
from services.geo.zones import geometry
from services.geo.zones.zone_index import Zone, ZoneIndex
from shared.geodesy import destination

CENTRE = (48.8600, 2.3470)
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
INDEX = ZoneIndex(
    [
        Zone("s1", "main", "store", geometry.circle(*CENTRE, 50)),
        Zone("s1", "bay", "pickup", geometry.circle(*CENTRE, 20), name="Bay 2"),
    ]
)
RULES = Rules()


def at(distance: float, seconds: float) -> Fix:
    return Fix(T0 + timedelta(seconds=seconds), *destination(*CENTRE, 0, distance), accuracy_m=8.0)


def trip(status: str = "started", started_at: datetime = T0) -> TripState:
    return TripState(Trip("t1", "s1", "car", status, *CENTRE), "d1", "o1", "Sam", started_at)


def device(consented: bool = True, trips: list[TripState] | None = None) -> DeviceState:
    return DeviceState("d1", Presence(), trips or [], location_consented=consented)


def test_a_state_as_read_has_nothing_to_write() -> None:
    d = device()
    assert not d.cursor_changed and not d.visits_changed and d.changed_trips() == [] and d.events == []


WALK_IN = range(200, -1, -10)  # metres from the centre, a fix every 5 s: 2 m/s
WALK_OUT = range(0, 301, 10)


def test_walking_in_changes_the_cursor_and_the_visits_and_says_so() -> None:
    d = device()
    for i, distance in enumerate(WALK_IN):
        d.apply_fix(at(distance, 5 * i), INDEX, RULES, 300)
    assert d.cursor_changed and d.visits_changed
    assert {e.zone_id for e in d.events if e.type == "zone.entered"} == {"main", "bay"}
    assert d.loaded == Presence()  # what was read stays, to compare with


def test_a_spent_upload_alone_is_a_change_to_write() -> None:
    d = device()
    assert d.take_request(T0, capacity=2, per_s=1) is None
    assert d.cursor_changed and not d.visits_changed


def test_walking_out_closes_the_visits_the_visit_log_keeps() -> None:
    d = device()
    for i, distance in enumerate(WALK_OUT):  # out of the zones for well over the exit confirmation
        d.apply_fix(at(distance, 5 * i), INDEX, RULES, 300)
    assert sorted(e.zone_id for e in d.closed_visits()) == ["bay", "main"]


def test_without_consent_and_without_a_trip_presence_is_dropped() -> None:
    d = device(consented=True)
    d.apply_fix(at(0, 0), INDEX, RULES, 300)
    d.location_consented = False
    d.stop_unless_needed()
    assert d.presence.visits == {} and d.presence.last_fix is None and d.presence.last_ts == T0
    assert [e.type for e in d.events] == ["zone.entered", "zone.entered"]  # the withdrawal fires nothing


def test_an_active_trip_keeps_presence_without_consent() -> None:
    d = device(consented=False, trips=[trip()])
    assert d.may_track
    d.apply_fix(at(0, 0), INDEX, RULES, 300)
    d.stop_unless_needed()
    assert d.presence.visits


def test_a_trip_started_in_the_bay_has_arrived_at_once() -> None:
    d = device()
    d.apply_fix(at(0, 0), INDEX, RULES, 300)
    new = trip()
    d.add_trip(new, INDEX, T0 + timedelta(seconds=1))
    assert new.trip.status == "arrived" and d.changed_trips() == [new]
    assert [e.type for e in d.events[-2:]] == ["trip.approaching", "trip.arrived"]
    assert d.events[-1].data.bay == "Bay 2"


def test_only_trips_that_have_not_arrived_expire() -> None:
    late, here = trip(), trip("arrived")
    here.order_id, here.trip = "o2", Trip("t2", "s1", "car", "arrived", *CENTRE)
    d = device(trips=[late, here])
    d.expire_trips(T0 + timedelta(minutes=1), T0 + timedelta(hours=4), INDEX)
    assert (late.trip.status, here.trip.status) == ("expired", "arrived")
    assert [e.type for e in d.events] == ["trip.expired"]
