"""The staff alert stream: what a tablet gets on opening it, after a reconnection, from any replica,
under redelivered events, while idle, and when its replica stops."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import asyncpg
import httpx
import pytest

from services.notify.staff_alerts import streams
from tests.conftest import RunningServices, System, eventually
from tests.support.builders import StaffStream, customer, pickup_store, place_order, pull_in, staff_member
from tests.support.processes import ServiceProcess
from tests.support.push_service import LocalPushService


async def arrive(system: System, push: LocalPushService | None = None):
    who = await customer(system, push)
    order_id = await place_order(system, who)
    trip_id = await pull_in(system, who, order_id)
    return who, order_id, trip_id


async def test_a_stream_opened_afresh_starts_with_the_stores_open_alerts(system: System) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    await arrive(system)
    await eventually(lambda: _listed(system, 2))
    async with StaffStream(system.notify, "rivoli", alex.auth) as stream:
        approaching, arrived = await stream.wait_for(2)
        assert [(a["kind"], a["status"]) for a in (approaching, arrived)] == [
            ("approaching", "open"),
            ("arrived", "open"),
        ]


async def _listed(system: System, count: int) -> list | None:
    alerts = (await system.notify.get("/v1/stores/rivoli/alerts", headers=system.admin)).json()["alerts"]
    return alerts if len(alerts) >= count else None


async def test_a_reconnection_gets_what_it_missed_once_and_nothing_it_had(system: System) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    async with StaffStream(system.notify, "rivoli", alex.auth) as stream:
        await arrive(system)
        first, second = await stream.wait_for(2)
        last_id = stream.messages[-1].id
    # While the tablet is away: the first arrival is acked, a second car pulls in, and is acked too.
    r = await system.notify.post(f"/v1/alerts/{second['alert_id']}/ack", headers=alex.auth)
    assert r.status_code == 200
    await arrive(system)
    [newest, *_] = await eventually(lambda: _listed(system, 4))
    r = await system.notify.post(f"/v1/alerts/{newest['alert_id']}/ack", headers=alex.auth)
    assert r.status_code == 200
    async with StaffStream(system.notify, "rivoli", {**alex.auth, "Last-Event-ID": last_id}) as stream:
        missed = await stream.wait_for(2)
        [updated] = await stream.wait_for(1, "alert.updated")
        await asyncio.sleep(0.3)
        assert [(a["kind"], a["status"]) for a in missed] == [("approaching", "open"), ("arrived", "acked")]
        assert {a["alert_id"] for a in missed}.isdisjoint({first["alert_id"], second["alert_id"]})
        assert (updated["alert_id"], updated["acked_by"]) == (second["alert_id"], alex.staff_id)
        assert len(stream.messages) == 3
        ids = [int(m.id) for m in stream.messages]
        assert ids == sorted(ids) and ids[0] > int(last_id)


async def test_the_browsers_own_reconnection_may_give_its_position_as_a_parameter(system: System) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    await arrive(system)
    await eventually(lambda: _listed(system, 2))
    async with StaffStream(system.notify, "rivoli", alex.auth, {"last_event_id": "0"}) as stream:
        assert [a["kind"] for a in await stream.wait_for(2)] == ["approaching", "arrived"]


async def test_every_replica_streams_every_alert_once(system: System, running: RunningServices) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    other = await running.start_replica("notify")
    async with (
        httpx.AsyncClient(base_url=other, timeout=10) as replica,
        StaffStream(system.notify, "rivoli", alex.auth) as here,
        StaffStream(replica, "rivoli", alex.auth) as there,
    ):
        await arrive(system)
        await arrive(system)
        for stream in (here, there):
            alerts = await stream.wait_for(4)
        await asyncio.sleep(0.3)
        assert [a["alert_id"] for a in here.alerts()] == [a["alert_id"] for a in there.alerts()]
        assert len(alerts) == 4 and len({a["alert_id"] for a in alerts}) == 4


async def test_a_redelivered_trip_event_makes_no_second_alert_message_or_push(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    tablet = await subscribe_staff(system, push, alex)
    async with StaffStream(system.notify, "rivoli", alex.auth) as stream:
        who, _, trip_id = await arrive(system, push)
        await stream.wait_for(2)
        await eventually(lambda: _at_least(push.received(tablet), 2))
        await eventually(lambda: _at_least(push.received(who.sub), 1))
        # The bus delivers at least once: hand the trip's events to notify's consumers again.
        redelivered = await db.execute(
            """
            INSERT INTO bus.deliveries (consumer, event_id, device_id)
            SELECT s.consumer, e.id, e.device_id
            FROM bus.events e JOIN bus.subscriptions s ON e.type = ANY (s.types)
            WHERE e.trip_id = $1 AND s.consumer IN ('notify.staff_alerts', 'notify.pickup_updates')
            """,
            trip_id,
        )
        assert redelivered == "INSERT 0 3"  # approaching and arrived for staff, arrived for the shopper
        await system.notify.post("/v1/devices", json={"platform": "web", "locale": "en"})  # any event wakes the bus
        await eventually(lambda: _drained(db))
        await asyncio.sleep(0.5)
        assert len(stream.alerts()) == 2 and stream.alerts("alert.updated") == []
    assert await db.fetchval("SELECT count(*) FROM notify.alerts WHERE trip_id = $1", trip_id) == 2
    assert await db.fetchval("SELECT count(*) FROM notify.messages WHERE staff_id IS NOT NULL") == 2
    assert await db.fetchval("SELECT count(*) FROM notify.messages WHERE device_id = $1", who.device_id) == 1
    assert len(push.received(tablet)) == 2 and len(push.received(who.sub)) == 1


async def subscribe_staff(system: System, push: LocalPushService, member):
    sub = push.subscriber((await system.notify.get("/v1/vapid-public-key")).json()["public_key"])
    r = await system.notify.put(
        f"/v1/staff/{member.staff_id}/push-subscription", json=sub.subscription(), headers=member.auth
    )
    assert r.status_code == 200, r.text
    return sub


async def _at_least(items: list, count: int) -> list | None:
    return items if len(items) >= count else None


async def _drained(db: asyncpg.Connection) -> bool:
    return not await db.fetchval("SELECT count(*) FROM bus.deliveries WHERE consumer LIKE 'notify.%'")


async def test_a_stream_catches_up_when_its_replicas_listener_reconnects(
    system: System, db: asyncpg.Connection
) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    async with StaffStream(system.notify, "rivoli", alex.auth) as stream:
        cut = await db.fetchval(
            """
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN %accueil_notify_%'
            """
        )
        assert cut == 1  # one listening connection for the whole replica, whatever the streams open
        await arrive(system)  # announced while nobody listens: read back after the reconnection
        assert [a["kind"] for a in await stream.wait_for(2)] == ["approaching", "arrived"]


async def test_an_idle_stream_gets_heartbeats(system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    monkeypatch.setattr(streams, "HEARTBEAT_S", 0.2)
    async with system.notify.stream("GET", "/v1/stores/rivoli/alerts/stream", headers=alex.auth) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-store" and r.headers["x-accel-buffering"] == "no"
        lines = []
        async for line in r.aiter_lines():
            lines.append(line)
            if lines.count(": keep-alive") == 2:
                break
    assert lines[:2] == [": accueil staff alerts", "retry: 2000"]


async def test_a_stopping_replica_ends_its_streams_at_once_and_exits_cleanly(
    system: System, db_url: str, tmp_path: Path
) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    with ServiceProcess("notify", db_url, tmp_path) as replica:
        await replica.ready()
        async with httpx.AsyncClient(base_url=replica.url, timeout=10) as client:
            async with StaffStream(client, "rivoli", alex.auth) as stream:
                assert stream.status == 200 and not stream.ended
                replica.proc.send_signal(signal.SIGTERM)
                # Well before the server's 20 s grace for open responses runs out.
                await eventually(lambda: _true(stream.ended), timeout=5)
        assert await replica.exit_code(30) == 0


async def _true(value: bool) -> bool:
    return value


async def test_a_closed_stream_leaves_nothing_behind_on_its_replica(system: System, running: RunningServices) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    hub = running.state("notify").part(streams.AlertHub)
    async with StaffStream(system.notify, "rivoli", alex.auth), StaffStream(system.notify, "rivoli", alex.auth):
        await eventually(lambda: _true(hub.open_streams == 2))
    await eventually(lambda: _true(hub.open_streams == 0))
