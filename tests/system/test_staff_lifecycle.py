"""A staff member's tokens: they last a shift and are renewed, a member who leaves is refused everywhere
within seconds (their streams end, their push subscription goes), and the alert streams are bounded:
single-use tickets, streams that end with their token, caps per staff member and per store."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from services.notify.settings import NotifySettings
from tests.conftest import System, eventually
from tests.support.builders import StaffMember, StaffStream, pickup_store, staff_member
from tests.support.push_service import LocalPushService


def expiry(body: dict) -> datetime:
    return datetime.fromisoformat(body["expires_at"])


async def ticket(system: System, who: StaffMember) -> str:
    r = await system.notify.post(f"/v1/stores/{who.store_id}/alerts/stream-ticket", headers=who.auth)
    assert r.status_code == 201, r.text
    return r.json()["ticket"]


async def _true(value: bool) -> bool:
    return value


async def test_a_staff_token_lasts_a_shift_and_is_renewed_by_its_owner_or_the_operator(system: System) -> None:
    await pickup_store(system)
    r = await system.notify.post("/v1/stores/rivoli/staff", json={"name": "Alex"}, headers=system.admin)
    created = r.json()
    assert timedelta(hours=11, minutes=59) < expiry(created) - datetime.now(UTC) <= timedelta(hours=12)
    alex = StaffMember(created["staff_id"], "rivoli", created["token"])
    await asyncio.sleep(1.1)  # token times are whole seconds

    r = await system.notify.post(f"/v1/staff/{alex.staff_id}/token", headers=alex.auth)
    assert r.status_code == 201, r.text
    renewed = r.json()
    assert renewed["staff_id"] == alex.staff_id and expiry(renewed) > expiry(created)
    me = await system.notify.get(f"/v1/staff/{alex.staff_id}", headers=System.bearer(renewed["token"]))
    assert (me.status_code, me.json()["name"]) == (200, "Alex")

    r = await system.notify.post(f"/v1/staff/{alex.staff_id}/token", headers=system.admin)
    assert r.status_code == 201
    sam = await staff_member(system, name="Sam")
    r = await system.notify.post(f"/v1/staff/{alex.staff_id}/token", headers=sam.auth)
    assert r.status_code == 403
    r = await system.notify.post("/v1/staff/stf_nobody/token", headers=system.admin)
    assert (r.status_code, r.json()["field"]) == (404, "staff_id")


@pytest.mark.parametrize("configs", [{"notify": NotifySettings(staff_token_ttl_s=2)}])
async def test_an_expired_staff_token_is_refused_and_ends_the_stream_it_opened(system: System) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    async with StaffStream(system.notify, "rivoli", {}, {"ticket": await ticket(system, alex)}) as stream:
        assert stream.status == 200
        await eventually(lambda: _true(stream.ended), timeout=5)
    r = await system.notify.get(f"/v1/staff/{alex.staff_id}", headers=alex.auth)
    assert (r.status_code, r.json()["detail"]) == (401, "token expired")
    r = await system.notify.post(f"/v1/staff/{alex.staff_id}/token", headers=alex.auth)
    assert r.status_code == 401  # an expired token renews nothing: sign in again


async def test_a_staff_member_who_leaves_is_refused_everywhere_within_seconds(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    await pickup_store(system)
    alex, sam = await staff_member(system), await staff_member(system, name="Sam")
    tablet = push.subscriber((await system.notify.get("/v1/vapid-public-key")).json()["public_key"])
    r = await system.notify.put(
        f"/v1/staff/{alex.staff_id}/push-subscription", json=tablet.subscription(), headers=alex.auth
    )
    assert r.status_code == 200, r.text
    calls: list[tuple[httpx.AsyncClient, str]] = [
        (system.geo, "/v1/stores/rivoli/trips"),
        (system.inventory, "/v1/stores/rivoli/orders"),
        (system.notify, f"/v1/staff/{alex.staff_id}"),
    ]
    for client, path in calls:
        assert (await client.get(path, headers=alex.auth)).status_code == 200

    async with StaffStream(system.notify, "rivoli", {}, {"ticket": await ticket(system, alex)}) as stream:
        assert stream.status == 200
        r = await system.notify.delete(f"/v1/staff/{alex.staff_id}", headers=sam.auth)
        assert r.status_code == 403  # the operator's call only
        started = time.monotonic()
        r = await system.notify.delete(f"/v1/staff/{alex.staff_id}", headers=system.admin)
        assert r.status_code == 204, r.text
        for client, path in calls:

            async def refused(client: httpx.AsyncClient = client, path: str = path) -> bool:
                return (await client.get(path, headers=alex.auth)).status_code == 401

            await eventually(refused, timeout=5)
        await eventually(lambda: _true(stream.ended), timeout=5)
        assert time.monotonic() - started < 5

    subscriptions = await db.fetch("SELECT 1 FROM notify.push_targets WHERE recipient_id = $1", alex.staff_id)
    assert subscriptions == []
    assert (await system.notify.post(f"/v1/staff/{alex.staff_id}/token", headers=alex.auth)).status_code == 401
    assert (await system.notify.post(f"/v1/staff/{alex.staff_id}/token", headers=system.admin)).status_code == 404
    assert (await system.notify.delete(f"/v1/staff/{alex.staff_id}", headers=system.admin)).status_code == 404
    r = await system.notify.get(f"/v1/stores/{alex.store_id}/alerts/stream", headers=alex.auth)
    assert r.status_code == 401
    assert (await system.notify.get(f"/v1/staff/{sam.staff_id}", headers=sam.auth)).status_code == 200


async def test_a_stream_ticket_opens_one_stream_only(system: System) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    once = await ticket(system, alex)
    async with StaffStream(system.notify, "rivoli", {}, {"ticket": once}) as stream:
        assert stream.status == 200
        async with StaffStream(system.notify, "rivoli", {}, {"ticket": once}) as again:
            assert again.status == 401
    r = await system.notify.get("/v1/stores/rivoli/alerts/stream", params={"ticket": once})
    assert (r.status_code, r.json()["detail"]) == (401, "stream ticket already used")


@pytest.mark.parametrize("configs", [{"notify": NotifySettings(streams_per_store=4)}])
async def test_open_streams_are_capped_per_staff_member_and_per_store(system: System) -> None:
    await pickup_store(system)
    alex, sam, kim = [await staff_member(system, name=n) for n in ("Alex", "Sam", "Kim")]
    streams = [StaffStream(system.notify, "rivoli", alex.auth) for _ in range(3)]
    streams.append(StaffStream(system.notify, "rivoli", sam.auth))
    for stream in streams:
        await stream.__aenter__()
    try:
        assert [s.status for s in streams] == [200] * 4
        r = await system.notify.get("/v1/stores/rivoli/alerts/stream", headers=alex.auth)
        assert (r.status_code, r.json()["detail"]) == (429, "at most 3 open alert streams per staff member")
        r = await system.notify.get("/v1/stores/rivoli/alerts/stream", headers=kim.auth)
        assert (r.status_code, r.json()["detail"]) == (429, "at most 4 open alert streams per store")
    finally:
        for stream in streams:
            await stream.__aexit__()
    # A closed stream frees its place.
    async with StaffStream(system.notify, "rivoli", kim.auth) as stream:
        assert stream.status == 200
