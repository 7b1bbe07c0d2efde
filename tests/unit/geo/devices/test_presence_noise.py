"""The presence machine against what phones really report (tests.support.gps), over many seeds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.geo.devices.presence import Fix, Presence, Rules, Transition, confidence, step
from services.geo.zones import geometry
from services.geo.zones.zone_index import Zone, ZoneIndex
from shared.geodesy import destination
from tests.support import gps

CENTRE = (48.8600, 2.3470)
DOOR = destination(*CENTRE, 0, 60)  # on the edge of the 60 m circle
BAY = destination(*CENTRE, 90, 40)
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STORE = Zone("s1", "main", "store", geometry.circle(*CENTRE, 60), dwell_s=120)
PICKUP = Zone("s1", "bay", "pickup", geometry.circle(*BAY, 12))
APPROACH = Zone("s1", "approach", "approach", geometry.circle(*CENTRE, 400))
INDEX = ZoneIndex([STORE, PICKUP, APPROACH])
RULES = Rules()
SEEDS = st.integers(0, 2**32 - 1)
MANY = settings(max_examples=60, derandomize=True, deadline=None)


def replay(fixes: list[Fix]) -> list[Transition]:
    presence, found = Presence(), []
    for f in fixes:
        presence, more = step(presence, f, INDEX.zones_at, INDEX.get, RULES)
        found += more
    return found


def of(zone: Zone, kind: str, found: list[Transition]) -> list[Transition]:
    return [t for t in found if t.type == kind and t.zone is not None and t.zone.key == zone.key]


@MANY
@given(seed=SEEDS, multipath=st.booleans())
def test_a_phone_still_at_the_door_for_half_an_hour_makes_one_visit_at_most(seed: int, multipath: bool) -> None:
    fixes = gps.still(gps.Phone(random.Random(seed), multipath=multipath), DOOR, T0, minutes=30)
    found = replay(fixes)
    assert fixes and len(of(STORE, "zone.entered", found)) <= 1
    assert len(of(STORE, "zone.exited", found)) == 0


@MANY
@given(seed=SEEDS, reports_speed=st.booleans(), offset_m=st.floats(-40, 40))
def test_a_car_driving_past_at_40_kmh_makes_no_store_visit(seed: int, reports_speed: bool, offset_m: float) -> None:
    phone = gps.Phone(random.Random(seed))
    fixes = gps.drive_past(phone, CENTRE, T0, speed_kmh=40, offset_m=offset_m, report_speed=reports_speed)
    found = replay(fixes)
    assert of(APPROACH, "zone.entered", found), "the approach zone still counts, for pickup trips"
    assert of(STORE, "zone.entered", found) == []


@MANY
@given(seed=SEEDS, multipath=st.booleans())
def test_a_walk_in_makes_exactly_one_visit_with_its_dwell(seed: int, multipath: bool) -> None:
    phone = gps.Phone(random.Random(seed), multipath=multipath)
    fixes = gps.walk_in(phone, CENTRE, T0, from_m=300, stay_min=10)
    found = replay(fixes)
    [entered] = of(STORE, "zone.entered", found)
    [dwelled] = of(STORE, "zone.dwelled", found)
    assert dwelled.ts == entered.ts + timedelta(seconds=120)
    assert of(STORE, "zone.exited", found) == []


@MANY
@given(seed=SEEDS)
def test_a_car_stopping_in_the_bay_arrives_and_then_visits_the_store(seed: int) -> None:
    fixes = gps.drive_in(gps.Phone(random.Random(seed), accuracy_m=(5, 12)), BAY, T0, from_m=1200, wait_min=5)
    found = replay(fixes)
    assert len(of(PICKUP, "zone.entered", found)) == 1
    [store] = of(STORE, "zone.entered", found)
    parked_at = next(f.ts for f in fixes if f.speed_mps == 0)
    assert store.ts >= parked_at - timedelta(seconds=30)  # not while it drove through


@MANY
@given(seed=SEEDS)
def test_a_phone_in_a_pocket_indoors_stays_in_the_store(seed: int) -> None:
    phone = gps.Phone(random.Random(seed))
    inside = gps.walk_in(phone, CENTRE, T0, from_m=200, stay_min=1)
    pocket = list(gps.pocket_indoors(phone, CENTRE, inside[-1].ts + timedelta(seconds=5), minutes=20))
    found = replay(inside + pocket)
    assert len(of(STORE, "zone.entered", found)) == 1 and of(STORE, "zone.exited", found) == []


@MANY
@given(seed=SEEDS)
def test_a_shopper_who_leaves_is_out_within_the_confirmation_time(seed: int) -> None:
    phone = gps.Phone(random.Random(seed), accuracy_m=(5, 15))
    inside = gps.walk_in(phone, CENTRE, T0, from_m=150, stay_min=3)
    out = gps.along(phone, [CENTRE, destination(*CENTRE, 180, 400)], 1.3, inside[-1].ts + timedelta(seconds=5))
    found = replay(inside + out)
    [exited] = of(STORE, "zone.exited", found)
    # The exit is dated where the walk crossed the buffer, and known once the confirmation time has passed.
    beyond = next(f for f in out if STORE.shape.edge_distance_m(f.lat, f.lng) < -max(15, f.accuracy_m))
    assert exited.ts <= beyond.ts + timedelta(seconds=15)
    known = next(f.ts for f in out if of(STORE, "zone.exited", replay(inside + [g for g in out if g.ts <= f.ts])))
    assert known - exited.ts <= timedelta(seconds=RULES.exit_confirm_s + 10)


def test_one_wild_fix_inside_opens_no_visit_for_a_device_walking_outside() -> None:
    far = destination(*CENTRE, 0, 160)
    track = [Fix(T0 + timedelta(seconds=5 * i), *destination(*far, 90, 1.3 * 5 * i), 8) for i in range(20)]
    wild = Fix(track[10].ts + timedelta(seconds=1), *CENTRE, 10)
    found = replay(track[:11] + [wild] + track[11:])
    assert of(STORE, "zone.entered", found) == []


def test_confidence_weighs_the_accuracy_against_the_distance_to_the_edge() -> None:
    assert confidence(0, 10) == 0.5  # on the edge: a coin toss
    assert confidence(5, 10) == 0.84  # half an accuracy in: one standard deviation
    assert confidence(10, 10) == 0.98
    assert confidence(10, 40) == 0.69  # the same depth with a poor fix
    assert confidence(60, 8) == 1.0  # the centre of a 60 m circle with a good fix
