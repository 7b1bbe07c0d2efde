"""Presence through the API on what phones really send (tests.support.gps): no flapping at the door,
no visit for a car driving past, and retried uploads answered with everything they caused."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from services.geo.devices.presence import Fix
from shared.geodesy import destination
from tests.conftest import System
from tests.support import gps
from tests.support.builders import CENTRE, create_store, shopper
from tests.system.test_beacons import bakery, dairy, departments, sightings

DOOR = destination(*CENTRE, 0, 60)  # on the edge of the store's 60 m circle
SEEDS = range(50)


async def upload(system: System, auth: dict[str, str], fixes: list[Fix], batch: int = 50) -> list[dict]:
    """The fixes as an app sends them, in batches; every event the answers carried."""
    events: list[dict] = []
    for i in range(0, len(fixes), batch):
        r = await system.geo.post(
            "/v1/pings", json={"pings": [gps.ping(f) for f in fixes[i : i + batch]]}, headers=auth
        )
        assert r.status_code == 200, r.text
        events += r.json()["events"]
    return events


def count(events: list[dict], kind: str, zone_id: str = "main") -> int:
    return sum(1 for e in events if e["type"] == kind and e["zone_id"] == zone_id)


async def at_the_door(system: System, seed: int, multipath: bool) -> list[dict]:
    who = await shopper(system, location=True)
    start = datetime.now(UTC) - timedelta(minutes=25)
    fixes = gps.still(gps.Phone(random.Random(seed), multipath=multipath), DOOR, start, minutes=20)
    return await upload(system, who.auth, fixes)


async def test_twenty_minutes_at_the_door_make_one_entry_and_one_exit_at_most_over_fifty_seeds(
    system: System,
) -> None:
    await create_store(system, radius_m=60)
    for multipath in (False, True):  # gaussian scatter, then with multipath outliers of 50-150 m
        results = await asyncio.gather(*(at_the_door(system, seed, multipath) for seed in SEEDS))
        for seed, events in zip(SEEDS, results, strict=True):
            assert count(events, "zone.entered") <= 1, (seed, multipath)
            assert count(events, "zone.exited") <= 1, (seed, multipath)
        assert any(count(events, "zone.entered") == 1 for events in results), "the phone is at the door"


async def test_a_car_crossing_the_store_at_40_kmh_enters_nothing_and_a_walk_in_enters_once(system: System) -> None:
    await create_store(system, radius_m=60)
    start = datetime.now(UTC) - timedelta(minutes=20)
    for seed in range(10):
        for reports_speed in (True, False):
            car = await shopper(system, location=True)
            fixes = gps.drive_past(gps.Phone(random.Random(seed)), CENTRE, start, report_speed=reports_speed)
            events = await upload(system, car.auth, fixes)
            assert fixes and count(events, "zone.entered") == 0, (seed, reports_speed)
        walker = await shopper(system, location=True)
        events = await upload(system, walker.auth, gps.walk_in(gps.Phone(random.Random(seed)), CENTRE, start))
        assert count(events, "zone.entered") == 1 and count(events, "zone.exited") == 0, seed


async def test_a_shopper_who_leaves_is_out_within_the_confirmation_time(system: System) -> None:
    await create_store(system, radius_m=60)
    who = await shopper(system, location=True)
    phone = gps.Phone(random.Random(1), accuracy_m=(5, 15))
    start = datetime.now(UTC) - timedelta(minutes=15)
    inside = gps.walk_in(phone, CENTRE, start, from_m=150, stay_min=3)
    assert count(await upload(system, who.auth, inside), "zone.entered") == 1
    away = gps.along(phone, [CENTRE, destination(*CENTRE, 180, 400)], 1.3, inside[-1].ts + timedelta(seconds=5))
    told_at = None
    for fix in away:  # one fix a request, as a live app sends them
        events = await upload(system, who.auth, [fix])
        if count(events, "zone.exited"):
            told_at = fix.ts
            [exited] = [e for e in events if e["type"] == "zone.exited"]
            break
    assert told_at is not None
    crossed = datetime.fromisoformat(exited["ts"])
    assert timedelta(0) <= told_at - crossed <= timedelta(seconds=60 + 10)  # the default confirmation, 60 s
    assert exited["data"]["duration_s"] > 0 and 0.5 < exited["data"]["confidence"] <= 1


async def test_a_retried_upload_answers_the_dwell_it_fired_with_the_same_ids(system: System) -> None:
    await create_store(system, radius_m=60, dwell_s=60)
    who = await shopper(system, location=True)
    start = datetime.now(UTC) - timedelta(minutes=10)
    fixes = [
        gps.ping(f) for f in gps.walk_in(gps.Phone(random.Random(2), accuracy_m=(5, 10)), CENTRE, start, stay_min=3)
    ]
    first = await system.geo.post("/v1/pings", json={"pings": fixes}, headers=who.auth)
    again = await system.geo.post("/v1/pings", json={"pings": fixes[::-1]}, headers=who.auth)  # any order
    assert first.status_code == again.status_code == 200
    events = first.json()["events"]
    assert [e["type"] for e in events] == ["zone.entered", "zone.dwelled"]
    assert again.json()["events"] == events


async def test_retried_sightings_answer_the_beacon_exit_the_timer_fired_with_the_same_ids(system: System) -> None:
    await departments(system)
    who = await shopper(system, location=True)
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    # The dairy, then the bakery a minute later: the dairy's beacons were silent past the exit window.
    batch = [dairy(t0), dairy(t0 + timedelta(seconds=3)), bakery(t0 + timedelta(seconds=60))]
    first = await sightings(system, who.auth, batch)
    again = await sightings(system, who.auth, batch)
    assert [(e["type"], e["zone_id"]) for e in first["events"]] == [
        ("zone.entered", "dairy"),
        ("zone.exited", "dairy"),
        ("zone.entered", "bakery"),
    ]
    assert again["events"] == first["events"]
