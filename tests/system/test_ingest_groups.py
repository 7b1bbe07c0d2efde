"""Uploads sent at the same moment are written together: each still gets its own answer, as if alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.conftest import System
from tests.support.builders import STORE, create_store, ping, shopper, walk_in

CENTRE = (STORE["lat"], STORE["lng"])


async def post_all(system: System, uploads: list[tuple[dict[str, str], list[dict]]]) -> list:
    return await asyncio.gather(
        *(system.geo.post("/v1/pings", json={"pings": pings}, headers=auth) for auth, pings in uploads)
    )


async def test_devices_pinging_at_once_each_get_their_own_events(system: System) -> None:
    await create_store(system)
    devices = [await shopper(system, location=True) for _ in range(12)]
    answers = await post_all(system, [(who.auth, walk_in()) for who in devices])
    for who, r in zip(devices, answers, strict=True):
        assert r.status_code == 200, r.text
        events = r.json()["events"]
        assert [(e["type"], e["device_id"]) for e in events] == [("zone.entered", who.device_id)]


async def test_the_same_upload_sent_twice_at_once_answers_both_with_the_one_event(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    device_id, auth = who.device_id, who.auth
    track = walk_in()
    first, second = await post_all(system, [(auth, track), (auth, track)])
    assert first.status_code == second.status_code == 200
    assert first.json()["events"] == second.json()["events"]
    assert [e["type"] for e in first.json()["events"]] == ["zone.entered"]
    async with system.running.state("geo").db.transaction() as conn:
        assert await conn.fetchval("SELECT count(*) FROM geo.pings WHERE device_id = $1", device_id) == len(track)


async def test_many_uploads_of_one_device_at_once_give_each_event_once(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    device_id, auth = who.device_id, who.auth
    answers = await post_all(system, [(auth, [p]) for p in walk_in()])
    assert {r.status_code for r in answers} == {200}
    events = [e for r in answers for e in r.json()["events"]]
    assert [(e["type"], e["device_id"]) for e in events] == [("zone.entered", device_id)]


async def test_a_device_over_its_budget_is_refused_alone(system: System) -> None:
    await create_store(system)
    eager = (await shopper(system, location=True)).auth
    calm = (await shopper(system, location=True)).auth
    now = datetime.now(UTC)
    uploads = [(eager, [ping(*CENTRE, now - timedelta(seconds=60 - i))]) for i in range(40)]
    answers = await post_all(system, [*uploads[:20], (calm, [ping(*CENTRE, now)]), *uploads[20:]])
    calm_answer = answers.pop(20)
    assert calm_answer.status_code == 200 and calm_answer.json()["accepted"] == 1
    assert {r.status_code for r in answers} == {200, 429}
    assert all(int(r.headers["retry-after"]) >= 1 for r in answers if r.status_code == 429)


async def test_a_device_without_consent_is_refused_while_its_group_is_accepted(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=False)
    refused_id, refused = who.device_id, who.auth
    accepted = (await shopper(system, location=True)).auth
    no, yes = await post_all(system, [(refused, walk_in()), (accepted, walk_in())])
    assert (no.json()["accepted"], no.json()["reason"]) == (0, "no_location_consent")
    assert yes.json()["accepted"] == len(walk_in())
    async with system.running.state("geo").db.transaction() as conn:
        assert await conn.fetchval("SELECT count(*) FROM geo.pings WHERE device_id = $1", refused_id) == 0
