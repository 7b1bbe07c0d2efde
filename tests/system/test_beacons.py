"""A walk through departments marked by beacons: enter on a sighting, leave only after silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.geo.devices.jobs import fire_timers
from shared.geodesy import destination
from tests.conftest import System
from tests.support.builders import STORE, feed_until, shopper

CENTRE = (STORE["lat"], STORE["lng"])
UUID = "F7826DA6-4FA2-4E98-8024-BC5B71E0893E"


async def departments(system: System) -> None:
    admin = system.admin
    await system.geo.put("/v1/stores/rivoli", json=STORE, headers=admin)
    for i, zone_id in enumerate(("dairy", "bakery")):
        lat, lng = destination(*CENTRE, 90 * i, 15)
        body = {"kind": "department", "name": zone_id, "circle": {"lat": lat, "lng": lng, "radius_m": 6}}
        assert (await system.geo.put(f"/v1/stores/rivoli/zones/{zone_id}", json=body, headers=admin)).status_code == 200
    r = await system.geo.put(
        "/v1/stores/rivoli/beacons/b-dairy",
        json={"zone_id": "dairy", "ibeacon": {"uuid": UUID, "major": 1, "minor": 1}},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    r = await system.geo.put(
        "/v1/stores/rivoli/beacons/b-bakery",
        json={"zone_id": "bakery", "eddystone": {"namespace": "EDD1EBEAC04E5DEFA017", "instance": "0BDB87539B67"}},
        headers=admin,
    )
    assert r.status_code == 200, r.text


def dairy(at: datetime) -> dict:
    return {"ibeacon": {"uuid": UUID.lower(), "major": 1, "minor": 1}, "rssi": -70, "ts": at.isoformat()}


def bakery(at: datetime) -> dict:
    return {
        "eddystone": {"namespace": "edd1ebeac04e5defa017", "instance": "0bdb87539b67"},
        "rssi": -65,
        "ts": at.isoformat(),
    }


async def sightings(system: System, auth: dict[str, str], batch: list[dict]) -> dict:
    r = await system.geo.post("/v1/beacon-sightings", json={"sightings": batch}, headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_ten_second_dropout_does_not_exit_but_thirty_seconds_of_silence_does(system: System) -> None:
    await departments(system)
    auth = (await shopper(system, location=True)).auth
    t0 = datetime.now(UTC) - timedelta(seconds=60)
    seen = [t0 + timedelta(seconds=s) for s in (0, 2, 4, 14, 16)]  # a 10 s gap between 4 and 14
    body = await sightings(system, auth, [dairy(t) for t in seen])
    assert [e["type"] for e in body["events"]] == ["zone.entered"]
    assert body["events"][0]["data"]["via"] == "beacon"

    state = system.running.state("geo")
    assert await fire_timers(state, seen[-1] + timedelta(seconds=29)) == 0
    assert await fire_timers(state, seen[-1] + timedelta(seconds=31)) == 1
    events = await feed_until(system, lambda evs: any(e["type"] == "zone.exited" for e in evs))
    exited = [e for e in events if e["type"] == "zone.exited"]
    assert len(exited) == 1 and exited[0]["zone_id"] == "dairy"
    assert datetime.fromisoformat(exited[0]["ts"]) == seen[-1] + timedelta(seconds=30)


async def test_walking_from_one_department_to_the_next(system: System) -> None:
    await departments(system)
    auth = (await shopper(system, location=True)).auth
    t0 = datetime.now(UTC) - timedelta(minutes=3)
    batch = [dairy(t0 + timedelta(seconds=s)) for s in range(0, 20, 2)]
    batch += [bakery(t0 + timedelta(seconds=s)) for s in range(70, 90, 2)]
    body = await sightings(system, auth, batch)
    assert [(e["type"], e["zone_id"]) for e in body["events"]] == [
        ("zone.entered", "dairy"),
        ("zone.exited", "dairy"),
        ("zone.entered", "bakery"),
    ]


async def test_an_unknown_beacon_is_rejected_by_index_and_a_bad_identity_is_422(system: System) -> None:
    await departments(system)
    auth = (await shopper(system, location=True)).auth
    now = datetime.now(UTC)
    unknown = {"ibeacon": {"uuid": UUID, "major": 9, "minor": 9}, "rssi": -70, "ts": now.isoformat()}
    body = await sightings(system, auth, [unknown, dairy(now)])
    assert body["accepted"] == 1 and body["rejected"] == [{"index": 0, "reason": "unknown beacon"}]
    bad = {"ibeacon": {"uuid": "not-a-uuid", "major": 1, "minor": 1}, "rssi": -70, "ts": now.isoformat()}
    r = await system.geo.post("/v1/beacon-sightings", json={"sightings": [bad]}, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "sightings[0].ibeacon.uuid"


async def test_one_beacon_identity_cannot_mark_two_zones(system: System) -> None:
    await departments(system)
    r = await system.geo.put(
        "/v1/stores/rivoli/beacons/b-copy",
        json={"zone_id": "bakery", "ibeacon": {"uuid": UUID, "major": 1, "minor": 1}},
        headers=system.admin,
    )
    assert r.status_code == 409
