"""The presence machine: once per visit, in event time, robust to GPS noise."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.geo.devices.presence import Fix, Presence, Rules, step, zone_deleted
from services.geo.zones import geometry
from services.geo.zones.zone_index import Zone, ZoneIndex
from shared.geodesy import destination

CENTRE = (48.8600, 2.3470)
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STORE = Zone("s1", "main", "store", geometry.circle(*CENTRE, 50), dwell_s=120)
INDEX = ZoneIndex([STORE])


RULES = Rules()


def run(pings: list[Fix], presence: Presence | None = None) -> tuple[Presence, list[str]]:
    presence = presence or Presence()
    types = []
    for p in pings:
        presence, found = step(presence, p, INDEX.zones_at, INDEX.get, RULES)
        types += [t.type for t in found]
    return presence, types


def at(bearing: float, distance: float, seconds: float, accuracy: float = 10) -> Fix:
    lat, lng = destination(*CENTRE, bearing, distance)
    return Fix(T0 + timedelta(seconds=seconds), lat, lng, accuracy)


def test_walking_in_enters_once_and_walking_out_exits_once() -> None:
    walk = [200, 120, 60, 30, 10, 0, 10, 30, 60, 90, 150] + [150 + 7 * k for k in range(1, 14)]
    track = [at(0, d, i * 5) for i, d in enumerate(walk)]
    presence = Presence()
    found = []
    for p in track:
        presence, more = step(presence, p, INDEX.zones_at, INDEX.get, RULES)
        found += more
    assert [t.type for t in found] == ["zone.entered", "zone.exited"]
    # Dated at the first fix beyond the exit buffer (90 m: 40 m out with 10 m accuracy), 45 s in.
    assert found[1].ts == T0 + timedelta(seconds=45)


def test_a_phone_lying_at_the_door_with_gps_wandering_makes_one_visit_at_most() -> None:
    rng = random.Random(7)
    track = [at(rng.uniform(0, 360) * 0 + 90, 50 + rng.uniform(-20, 20), i * 3, accuracy=20) for i in range(400)]
    _, types = run(track)
    assert types.count("zone.entered") <= 1 and types.count("zone.exited") == 0


def test_exit_needs_the_buffer_not_just_a_step_outside() -> None:
    presence, types = run([at(0, 0, 0), at(0, 60, 10, accuracy=10)])
    assert types == ["zone.entered"]  # 10 m outside with 10 m accuracy: within the exit buffer
    _, more = run([at(0, 80, 20 + 5 * k, accuracy=10) for k in range(13)], presence)
    assert more == ["zone.exited"]  # 30 m out: beyond the buffer, and for a minute


def test_an_older_ping_arriving_late_does_not_move_presence_backwards() -> None:
    presence, types = run([at(0, 0, 60)])
    assert types == ["zone.entered"]
    presence, late = run([at(0, 300, 30)], presence)  # taken before, outside
    assert late == [] and ("s1", "main") in presence.visits


def test_hopeless_accuracy_moves_nothing() -> None:
    _, types = run([at(0, 0, 0, accuracy=500)])
    assert types == []


def test_dwell_fires_once_at_entry_plus_dwell_time_in_event_time() -> None:
    presence = Presence()
    fired = []
    for p in [at(0, 0, 0), at(0, 5, 60), at(0, 5, 130), at(0, 5, 200)]:
        presence, found = step(presence, p, INDEX.zones_at, INDEX.get, RULES)
        fired += [(t.type, t.ts) for t in found]
    assert fired == [("zone.entered", T0), ("zone.dwelled", T0 + timedelta(seconds=120))]


track_points = st.lists(st.tuples(st.floats(0, 360), st.floats(0, 35), st.floats(3, 25)), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(points=track_points)
def test_a_noisy_track_that_never_truly_leaves_enters_at_most_once_and_never_exits(points) -> None:
    track = [at(b, d, i * 4, acc) for i, (b, d, acc) in enumerate(points)]
    _, types = run(track)
    assert types.count("zone.entered") <= 1 and "zone.exited" not in types


@settings(max_examples=200, deadline=None)
@given(
    points=st.lists(st.tuples(st.floats(0, 360), st.floats(0, 150), st.floats(3, 40)), min_size=1, max_size=30),
    seed=st.integers(),
)
def test_any_order_of_arrival_gives_the_same_final_presence_once_sorted(points, seed) -> None:
    track = [at(b, d, i * 4, acc) for i, (b, d, acc) in enumerate(points)]
    shuffled = track[:]
    random.Random(seed).shuffle(shuffled)
    final_sorted, _ = run(sorted(shuffled, key=lambda p: p.ts))
    final, _ = run(track)
    assert final == final_sorted


def test_an_impossible_jump_is_suspicious_once_and_moves_nothing() -> None:
    presence, types = run([at(0, 0, 0)])
    far = Fix(T0 + timedelta(seconds=10), 40.7, -74.0, 10)
    presence, found = step(presence, far, INDEX.zones_at, INDEX.get, RULES)
    assert [t.type for t in found] == ["location.suspicious"] and ("s1", "main") in presence.visits
    farther = Fix(T0 + timedelta(seconds=20), 35.0, 139.0, 10)
    presence, found = step(presence, farther, INDEX.zones_at, INDEX.get, RULES)
    assert found == []  # one flag per episode, not one per ping


def test_two_agreeing_fixes_far_away_re_anchor_the_device_there() -> None:
    presence, _ = run([at(0, 0, 0)])
    away = [Fix(T0 + timedelta(seconds=10 + i), *destination(48.0, 2.0, 0, i * 5), 10) for i in range(2)]
    presence, first = step(presence, away[0], INDEX.zones_at, INDEX.get, RULES)
    presence, second = step(presence, away[1], INDEX.zones_at, INDEX.get, RULES)
    assert [t.type for t in first] == ["location.suspicious"]
    assert [t.type for t in second] == ["zone.exited"]  # the device really is elsewhere now


def test_a_deleted_zone_ends_its_visit_at_once_and_says_why() -> None:
    aisle = Zone("s1", "aisle", "department", geometry.circle(*CENTRE, 20))
    index = ZoneIndex([STORE, aisle])
    presence = Presence()
    for p in [at(0, 0, 0), at(0, 1, 30)]:
        presence, _ = step(presence, p, index.zones_at, index.get, RULES)
    assert set(presence.visits) == {STORE.key, aisle.key}
    gone = T0 + timedelta(minutes=5)
    presence, [exited] = zone_deleted(presence, aisle, gone)
    assert (exited.type, exited.ts, exited.zone) == ("zone.exited", gone, aisle)
    assert exited.data.reason == "zone_deleted" and exited.data.duration_s == 30
    assert [(z.store_id, z.zone_id) for z in exited.data.zones] == [STORE.key]  # where the device still is
    assert set(presence.visits) == {STORE.key}
    assert zone_deleted(presence, aisle, gone) == (presence, [])  # a zone it is not in changes nothing
