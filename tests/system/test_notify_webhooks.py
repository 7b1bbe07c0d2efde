"""Signed outbound webhooks (Standard Webhooks): an operator's endpoint receives the event types it
subscribed to, each once, signed; what it missed while down reaches it when it is back, with the same
ids and in order per device, a body still waiting without the shopper's name, distance and ETA once the
event log has blanked them; a URL into our own network is refused."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.notify.privacy.jobs import enforce_retention
from services.notify.settings import NotifySettings
from services.notify.webhooks.jobs import blank_personal
from services.notify.webhooks.repository import WEBHOOK_CHANNEL
from tests.conftest import System, eventually
from tests.support.builders import create_store, customer, enter, pickup_store, place_order, pull_in, shopper
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
def configs(receiver: WebhookReceiver) -> dict[str, Any]:
    """notify may call the receiver's loopback port; failed deliveries are retried within a second."""
    return {"notify": NotifySettings(webhook_hosts=(receiver.host,), webhook_retry_s=0.2)}


async def register(system: System, url: str, events: list[str], webhook_id: str = "crm") -> dict[str, Any]:
    r = await system.notify.put(f"/v1/webhooks/{webhook_id}", json={"url": url, "events": events}, headers=system.admin)
    assert r.status_code == 200, r.text
    return r.json()


async def set_consents(system: System, who: Any, offers: bool) -> None:
    r = await system.notify.put(
        f"/v1/devices/{who.device_id}/consents",
        json={"policy_version": "2026-01", "purposes": {"location": True, "offers": offers, "pickup_updates": True}},
        headers=who.auth,
    )
    assert r.status_code == 200, r.text


async def test_the_receiver_gets_each_subscribed_event_once_signed_and_nothing_else(
    system: System, receiver: WebhookReceiver
) -> None:
    hook = await register(system, receiver.url(), ["consent.changed"])
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["consent.changed"]
    await create_store(system)
    people = [await shopper(system, location=True, offers=False, pickup_updates=True) for _ in range(3)]
    await enter(system, people[0])  # zone.entered: not subscribed

    got = await eventually(lambda: asyncio.sleep(0, len(receiver.received) >= 3 and receiver.received))
    await asyncio.sleep(1.5)  # anything else would have arrived by now
    assert len(receiver.received) == 3
    docs = [r.verified(hook["secret"]) for r in got]
    assert [d["type"] for d in docs] == ["consent.changed"] * 3
    assert sorted(d["data"]["device_id"] for d in docs) == sorted(p.device_id for p in people)
    for r, d in zip(got, docs, strict=True):
        assert r.id == str(d["data"]["id"]) and d["data"]["type"] == d["type"] and d["timestamp"] == d["data"]["ts"]
        assert set(d) == {"type", "timestamp", "data"}
    assert len({r.id for r in got}) == 3

    log = (await system.notify.get("/v1/webhooks/crm/deliveries", headers=system.admin)).json()
    assert sorted(str(a["event_id"]) for a in log["attempts"]) == sorted(r.id for r in got)
    assert {(a["attempt"], a["status_code"], a["status"]) for a in log["attempts"]} == {(1, 200, "delivered")}


async def test_what_the_receiver_missed_while_down_arrives_once_in_order_with_the_same_ids(
    system: System, receiver: WebhookReceiver
) -> None:
    receiver.status = 503
    hook = await register(system, receiver.url(), ["consent.changed"])
    alice = await shopper(system, location=True, offers=False, pickup_updates=True)
    bob = await shopper(system, location=True, offers=False, pickup_updates=True)
    for offers in (True, False, True):
        await set_consents(system, alice, offers)
    await set_consents(system, bob, True)

    async def retried() -> bool:
        log = (await system.notify.get("/v1/webhooks/crm/deliveries", headers=system.admin)).json()
        return any(a["attempt"] >= 3 and a["status_code"] == 503 and a["next_retry_at"] for a in log["attempts"])

    await eventually(retried)
    receiver.status = 302  # moved away: redirects are not followed, this is a failure too
    await asyncio.sleep(2)
    refused_ids = {r.id for r in receiver.refused}
    receiver.status = 200

    got = await eventually(lambda: asyncio.sleep(0, len(receiver.received) >= 6 and receiver.received), timeout=45)
    await asyncio.sleep(1.5)
    assert len(receiver.received) == 6 and len({r.id for r in got}) == 6  # each once
    assert refused_ids <= {r.id for r in got}  # the same ids as the attempts that failed
    docs = [r.verified(hook["secret"]) for r in got]
    for who, count in ((alice, 4), (bob, 2)):
        ids = [d["data"]["id"] for d in docs if d["data"]["device_id"] == who.device_id]
        assert len(ids) == count and ids == sorted(ids), ids  # in order per device
    log = (await system.notify.get("/v1/webhooks/crm/deliveries", headers=system.admin)).json()["attempts"]
    assert {503, 302, 200} <= {a["status_code"] for a in log}
    assert {a["status"] for a in log} == {"delivered"}


async def test_an_erased_devices_pending_deliveries_and_their_log_go(
    system: System, receiver: WebhookReceiver, db: asyncpg.Connection
) -> None:
    receiver.status = 503
    await register(system, receiver.url(), ["consent.changed"])
    who = await shopper(system, location=True, offers=False, pickup_updates=True)
    count = "SELECT (SELECT count(*) FROM notify.webhook_deliveries WHERE device_id = $1) + "
    count += "(SELECT count(*) FROM notify.webhook_attempts WHERE device_id = $1)"
    await eventually(lambda: db.fetchval(f"SELECT ({count}) >= 2", who.device_id))  # queued, and tried

    r = await system.notify.delete(f"/v1/devices/{who.device_id}", headers=who.auth)
    assert r.status_code == 202, r.text
    assert await db.fetchval(count, who.device_id) == 0


async def test_the_delivery_log_is_kept_as_long_as_the_message_log(
    system: System, receiver: WebhookReceiver, db: asyncpg.Connection
) -> None:
    await register(system, receiver.url(), ["consent.changed"])
    await shopper(system, location=True, offers=False, pickup_updates=True)
    await eventually(lambda: asyncio.sleep(0, receiver.received))
    ctx = system.running.state("notify")
    await enforce_retention(ctx, datetime.now(UTC) + timedelta(days=89))
    log = (await system.notify.get("/v1/webhooks/crm/deliveries", headers=system.admin)).json()["attempts"]
    assert len(log) == 1
    await enforce_retention(ctx, datetime.now(UTC) + timedelta(days=91))
    assert (await system.notify.get("/v1/webhooks/crm/deliveries", headers=system.admin)).json()["attempts"] == []
    assert await db.fetchval("SELECT count(*) FROM notify.webhook_deliveries") == 0


async def test_a_body_waiting_to_be_sent_loses_the_shoppers_name_distance_and_eta_when_the_event_log_does(
    system: System, receiver: WebhookReceiver, db: asyncpg.Connection
) -> None:
    receiver.status = 503  # down: the trip's events wait in notify, their bodies with them
    await register(system, receiver.url(), ["trip.approaching", "trip.arrived"])
    await pickup_store(system)
    who = await customer(system, None)
    await pull_in(system, who, await place_order(system, who, name="Camille"))

    async def bodies() -> dict[str, dict[str, Any]]:
        rows = await db.fetch(
            "SELECT event_type, payload FROM notify.webhook_deliveries WHERE device_id = $1 AND payload IS NOT NULL",
            who.device_id,
        )
        return {r["event_type"]: json.loads(r["payload"]) for r in rows}

    waiting = await eventually(lambda: _both(bodies()))
    approaching = waiting["trip.approaching"]["data"]["data"]
    assert approaching["display_name"] == "Camille" and {"eta_s", "distance_m"} <= set(approaching)
    ctx = system.running.state("notify")
    hours = system.settings.event_personal_hours
    assert await blank_personal(ctx, datetime.now(UTC) + timedelta(hours=hours - 1)) == 0
    assert await bodies() == waiting

    assert await blank_personal(ctx, datetime.now(UTC) + timedelta(hours=hours + 1)) == 2
    blanked = await bodies()
    for event_type, body in waiting.items():
        data = {k: v for k, v in body["data"]["data"].items() if k not in ("eta_s", "distance_m")}
        # The event log's own rule: the name null, distance and ETA gone; the rest of the body as it was.
        assert blanked[event_type] == {**body, "data": {**body["data"], "data": {**data, "display_name": None}}}

    receiver.status = 200  # back: what it gets is the blanked copy
    await db.execute("UPDATE notify.webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'")
    await db.execute("SELECT pg_notify($1, '')", WEBHOOK_CHANNEL)
    got = await eventually(lambda: asyncio.sleep(0, len(receiver.received) >= 2 and receiver.received))
    assert sorted(r.doc["type"] for r in got) == ["trip.approaching", "trip.arrived"]
    assert all("Camille" not in r.body and r.doc["data"]["data"]["display_name"] is None for r in got)


async def _both(read: Awaitable[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]] | None:
    found = await read
    return found if len(found) == 2 else None


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/x",
        "https://10.0.0.1/x",
        "https://127.0.0.1/x",
        "https://[::1/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://169.254.169.254/latest",
        "https://192.168.1.10/x",
        "http://example.com/x",
        "ftp://example.com/x",
        "https://user@example.com/x",
        "https:///x",
        "https://localhost/x",
    ],
)
async def test_a_url_into_our_own_network_is_refused(system: System, url: str) -> None:
    r = await system.notify.put("/v1/webhooks/crm", json={"url": url, "events": ["zone.entered"]}, headers=system.admin)
    assert r.status_code == 422 and r.json()["field"] == "url", r.text


async def test_a_host_name_resolving_to_loopback_is_refused_unless_listed(
    system: System, receiver: WebhookReceiver
) -> None:
    r = await system.notify.put(
        "/v1/webhooks/crm",
        json={"url": f"https://localhost:{receiver.port}/x", "events": ["zone.entered"]},
        headers=system.admin,
    )
    assert r.status_code == 422 and r.json()["field"] == "url", r.text
    r = await system.notify.put(
        "/v1/webhooks/crm", json={"url": receiver.url(), "events": ["zone.entred"]}, headers=system.admin
    )
    assert r.status_code == 422 and r.json()["field"] == "events", r.text


async def test_the_secret_is_shown_once_and_a_deleted_webhook_gets_nothing_more(
    system: System, receiver: WebhookReceiver
) -> None:
    created = await register(system, receiver.url(), ["consent.changed"])
    changed = await register(system, receiver.url("/other"), ["consent.changed", "zone.entered"])
    assert "secret" in created and "secret" not in changed  # an update keeps the secret
    assert changed["events"] == ["consent.changed", "zone.entered"]
    listed = (await system.notify.get("/v1/webhooks", headers=system.admin)).json()["webhooks"]
    one = (await system.notify.get("/v1/webhooks/crm", headers=system.admin)).json()
    assert [w["webhook_id"] for w in listed] == ["crm"] and "secret" not in listed[0] and "secret" not in one
    assert one["url"] == receiver.url("/other")
    who = await shopper(system, location=True, offers=False, pickup_updates=True)
    [got] = await eventually(lambda: asyncio.sleep(0, receiver.received))
    got.verified(created["secret"])

    assert (await system.notify.delete("/v1/webhooks/crm", headers=system.admin)).status_code == 204
    assert (await system.notify.get("/v1/webhooks/crm", headers=system.admin)).status_code == 404
    assert (await system.notify.get("/v1/webhooks/crm/deliveries", headers=system.admin)).status_code == 404
    await set_consents(system, who, True)
    await asyncio.sleep(1.5)
    assert len(receiver.received) == 1


async def test_webhooks_are_for_the_admin_only(system: System, receiver: WebhookReceiver) -> None:
    who = await shopper(system)
    body = {"url": receiver.url(), "events": ["zone.entered"]}
    assert (await system.notify.put("/v1/webhooks/crm", json=body, headers=who.auth)).status_code == 403
    assert (await system.notify.get("/v1/webhooks", headers=who.auth)).status_code == 403
    assert (await system.notify.put("/v1/webhooks/a%20b", json=body, headers=system.admin)).status_code == 422
