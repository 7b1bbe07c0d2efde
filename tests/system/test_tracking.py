"""geo over real HTTP on real PostgreSQL, with realistic noisy tracks."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

import httpx

from services.geo.devices.jobs import fire_timers
from services.geo.privacy.jobs import maintain_ping_partitions
from services.geo.privacy.partitions import RETIRE_GRACE
from shared.geodesy import destination
from tests.conftest import System, eventually
from tests.support.builders import STORE, create_store, feed_until, ping, shopper, walk_in

CENTRE = (STORE["lat"], STORE["lng"])


async def post(system: System, auth: dict[str, str], pings: list[dict]) -> dict:
    r = await system.geo.post("/v1/pings", json={"pings": pings}, headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


def types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


async def test_a_phone_lying_at_the_door_makes_one_visit_not_dozens(system: System) -> None:
    await create_store(system, radius_m=50)
    auth = (await shopper(system, location=True)).auth
    rng = random.Random(3)
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    events: list[dict] = []
    for batch in range(12):  # half an hour at the door, a fix every 5 s, ±20 m of GPS wander
        pings = []
        for i in range(30):
            lat, lng = destination(*CENTRE, 90 + rng.uniform(-10, 10), 50 + rng.uniform(-20, 20))
            pings.append(ping(lat, lng, t0 + timedelta(seconds=(batch * 30 + i) * 5), accuracy_m=20))
        events += (await post(system, auth, pings))["events"]
    assert types(events).count("zone.entered") <= 1
    assert "zone.exited" not in types(events)


async def test_a_late_batch_gives_the_same_events_as_live_pings(system: System) -> None:
    await create_store(system)
    live = (await shopper(system, location=True)).auth
    late = (await shopper(system, location=True)).auth
    track = walk_in() + [  # then out again at 3 m/s, seen outside for more than the exit confirmation
        ping(*destination(*CENTRE, 180, d), datetime.now(UTC) - timedelta(seconds=150 - 5 * i))
        for i, d in enumerate(range(30, 300, 15))
    ]
    live_events = []
    for p in track:
        live_events += (await post(system, live, [p]))["events"]
    late_events = (await post(system, late, track))["events"]
    summary = lambda evs: [(e["type"], e["ts"], e["zone_id"]) for e in evs]  # noqa: E731
    assert summary(live_events) == summary(late_events)
    assert types(late_events) == ["zone.entered", "zone.exited"]
    assert late_events[1]["data"]["duration_s"] > 0


async def test_out_of_order_and_duplicated_pings_give_each_event_once(system: System, db) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    auth = who.auth
    track = walk_in()
    shuffled = track + track[:4]
    random.Random(5).shuffle(shuffled)
    first = await post(system, auth, shuffled[:7])
    second = await post(system, auth, shuffled[7:])
    third = await post(system, auth, track)  # the whole upload retried
    answered = {e["id"]: e["type"] for e in first["events"] + second["events"] + third["events"]}
    assert list(answered.values()).count("zone.entered") == 1  # the retry answers it again, same id
    # Each ping is stored once, as first sent, whether it came twice in one upload, late, or again.
    stored = await db.fetch("SELECT ts, lat, lng FROM geo.pings WHERE device_id = $1 ORDER BY ts", who.device_id)
    assert [(r["ts"], r["lat"], r["lng"]) for r in stored] == sorted(
        (datetime.fromisoformat(p["ts"]), p["lat"], p["lng"]) for p in track
    )


async def test_uploads_resent_with_a_new_fix_answer_the_events_their_stored_pings_caused(system: System) -> None:
    # An app that lost the answer sends its fixes again with the next one: a different upload (no
    # earlier answer of its own), whose pings stored exactly as sent bring back the events they caused.
    await create_store(system)
    phones = [(await shopper(system, location=True)).auth for _ in range(3)]
    tracks = [walk_in() for _ in phones]
    first = [await post(system, auth, track) for auth, track in zip(phones, tracks, strict=True)]
    later = [datetime.fromisoformat(t[-1]["ts"]) + timedelta(seconds=10) for t in tracks]
    again = await asyncio.gather(
        *(
            post(system, auth, track + [ping(*CENTRE, at)])
            for auth, track, at in zip(phones, tracks, later, strict=True)
        )
    )
    for before, after in zip(first, again, strict=True):
        assert types(before["events"]) == ["zone.entered"]
        assert [e["id"] for e in after["events"]] == [before["events"][0]["id"]]


async def test_dwell_fires_from_the_scheduler_when_the_phone_goes_quiet(system: System) -> None:
    await create_store(system, dwell_s=120)
    auth = (await shopper(system, location=True)).auth
    entered_at = datetime.now(UTC) - timedelta(seconds=10)
    body = await post(system, auth, [ping(*CENTRE, entered_at)])
    assert types(body["events"]) == ["zone.entered"]

    state = system.running.state("geo")
    assert await fire_timers(state, entered_at + timedelta(seconds=119)) == 0
    assert await fire_timers(state, entered_at + timedelta(seconds=125)) == 1
    assert await fire_timers(state, entered_at + timedelta(seconds=300)) == 0  # once per visit

    async def dwells() -> list[dict]:
        r = await system.geo.get("/v1/events", headers=system.admin)
        return [e for e in r.json()["events"] if e["type"] == "zone.dwelled"]

    dwelled = await eventually(dwells)  # the feed waits for transactions still running elsewhere
    assert len(dwelled) == 1
    assert datetime.fromisoformat(dwelled[0]["ts"]) == entered_at + timedelta(seconds=120)  # event time


async def test_a_withdrawal_leaves_the_device_in_no_zone_and_nothing_fires_later(system: System) -> None:
    await create_store(system, dwell_s=120)
    who = await shopper(system, location=True)
    device_id, auth = who.device_id, who.auth
    entered_at = datetime.now(UTC) - timedelta(seconds=10)
    assert types((await post(system, auth, [ping(*CENTRE, entered_at)]))["events"]) == ["zone.entered"]

    async def zones_now() -> list[dict]:
        return (await system.geo.get(f"/v1/devices/{device_id}/context", headers=auth)).json()["zones"]

    assert [z["zone_id"] for z in await zones_now()] == ["main"]
    r = await system.notify.put(
        f"/v1/devices/{device_id}/consents",
        json={"policy_version": "2026-01", "purposes": {"location": False}},
        headers=auth,
    )
    assert r.status_code == 200

    async def in_no_zone() -> bool:
        return await zones_now() == []

    await eventually(in_no_zone)  # geo applies notify's consent event from the bus
    state = system.running.state("geo")
    assert await fire_timers(state, entered_at + timedelta(seconds=300)) == 0  # no dwell, no exit
    r = await system.geo.get("/v1/events", headers=system.admin)
    assert [e["type"] for e in r.json()["events"] if e.get("device_id") == device_id] == ["zone.entered"]


async def test_an_impossible_jump_is_flagged_and_does_not_move_presence(system: System) -> None:
    await create_store(system)
    auth = (await shopper(system, location=True)).auth
    now = datetime.now(UTC)
    body = await post(
        system, auth, [ping(*CENTRE, now - timedelta(seconds=20)), ping(40.7, -74.0, now - timedelta(seconds=10))]
    )
    assert types(body["events"]) == ["zone.entered", "location.suspicious"]
    body = await post(system, auth, [ping(*CENTRE, now)])
    assert body["events"] == []  # still inside: no exit, no second entry


async def test_a_zone_created_on_one_geo_process_reaches_another_within_a_second(system: System) -> None:
    other = await system.running.start_replica("geo")
    await system.geo.put("/v1/stores/rivoli", json=STORE, headers=system.admin)
    auth = (await shopper(system, location=True)).auth
    body = {"kind": "store", "circle": {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 60}}
    r = await system.geo.put("/v1/stores/rivoli/zones/main", json=body, headers=system.admin)
    assert r.status_code == 200
    async with httpx.AsyncClient(base_url=other) as replica:

        async def entered() -> bool:
            r = await replica.post("/v1/pings", json={"pings": [ping(*CENTRE, datetime.now(UTC))]}, headers=auth)
            return "zone.entered" in types(r.json()["events"])

        await eventually(entered, timeout=1.0)


async def test_the_same_batch_sent_to_two_geo_processes_at_once_fires_once(system: System) -> None:
    other = await system.running.start_replica("geo")
    await create_store(system)
    auth = (await shopper(system, location=True)).auth
    track = walk_in()
    async with httpx.AsyncClient(base_url=other) as replica:
        a, b = await asyncio.gather(
            system.geo.post("/v1/pings", json={"pings": track}, headers=auth),
            replica.post("/v1/pings", json={"pings": track}, headers=auth),
        )
    fired = {e["id"]: e["type"] for e in a.json()["events"] + b.json()["events"]}
    assert list(fired.values()) == ["zone.entered"]  # one event; the later answer repeats it, same id


async def test_deleting_a_zone_closes_the_visits_inside_it(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    device_id, auth = who.device_id, who.auth
    await post(system, auth, walk_in())
    r = await system.geo.delete("/v1/stores/rivoli/zones/main", headers=system.admin)
    assert r.status_code == 204
    events = await feed_until(system, lambda evs: any(e["type"] == "zone.exited" for e in evs))
    exited = [e for e in events if e["type"] == "zone.exited"]
    assert len(exited) == 1 and exited[0]["device_id"] == device_id and exited[0]["data"]["reason"] == "zone_deleted"
    context = (await system.geo.get(f"/v1/devices/{device_id}/context", headers=auth)).json()
    assert context["zones"] == []


async def test_the_context_says_where_the_device_is_and_for_how_long(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    device_id, auth = who.device_id, who.auth
    await post(system, auth, walk_in())
    context = (await system.geo.get(f"/v1/devices/{device_id}/context", headers=auth)).json()
    assert context["stores"] == ["rivoli"]
    [zone] = context["zones"]
    assert zone["zone_id"] == "main" and zone["kind"] == "store" and zone["dwell_so_far_s"] >= 60
    other = (await shopper(system)).auth
    assert (await system.geo.get(f"/v1/devices/{device_id}/context", headers=other)).status_code == 403


async def test_raw_pings_are_purged_after_the_retention_period(system: System, db) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    device_id, auth = who.device_id, who.auth
    await post(system, auth, walk_in())
    assert await db.fetchval("SELECT count(*) FROM geo.pings WHERE device_id = $1", device_id) == 11
    holding = [r[0] for r in await db.fetch("SELECT DISTINCT tableoid::regclass::text FROM geo.pings")]
    assert holding and all(name.startswith("geo.pings_p") for name in holding)
    state = system.running.state("geo")
    now = datetime.now(UTC)
    await maintain_ping_partitions(state, now + timedelta(hours=23))
    assert await db.fetchval("SELECT count(*) FROM geo.pings WHERE device_id = $1", device_id) == 11
    await maintain_ping_partitions(state, now + timedelta(hours=25) + RETIRE_GRACE)
    assert await db.fetchval("SELECT count(*) FROM geo.pings") == 0
    assert [await db.fetchval("SELECT to_regclass($1)", name) for name in holding] == [None] * len(holding)


async def test_a_device_over_its_upload_budget_gets_429_even_across_connections_and_replicas(system: System) -> None:
    other = await system.running.start_replica("geo")
    await create_store(system)
    auth = (await shopper(system, location=True)).auth
    now = datetime.now(UTC)
    statuses, retry_after = [], []
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=other) as replica:
        for i in range(60):
            client = system.geo if i % 2 else replica  # alternate processes (and so connections)
            r = await client.post(
                "/v1/pings", json={"pings": [ping(*CENTRE, now - timedelta(seconds=100 - i))]}, headers=auth
            )
            statuses.append(r.status_code)
            if r.status_code == 429:
                retry_after.append(int(r.headers["retry-after"]))
    elapsed = time.monotonic() - started
    budget = 30 + 5 * elapsed  # the burst, plus what the sustained rate refilled meanwhile
    assert statuses.count(200) <= budget + 1
    assert set(statuses) == {200, 429} and all(s >= 1 for s in retry_after)


async def test_a_body_over_the_size_limit_is_413(system: System) -> None:
    auth = (await shopper(system, location=True)).auth
    r = await system.geo.post(
        "/v1/pings",
        content=b'{"pings": [' + b" " * 1_100_000 + b"]}",
        headers={**auth, "content-type": "application/json"},
    )
    assert r.status_code == 413
