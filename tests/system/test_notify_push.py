"""Web Push for real: subscriptions only to push services, VAPID-signed and encrypted pushes, retries,
gone subscriptions, and every attempt on record."""

from __future__ import annotations

import base64
from datetime import timedelta

import asyncpg
import pytest

from tests.conftest import System, eventually
from tests.support.builders import EVERY_PURPOSE, attempts, campaign, enter, messages, settled, shop, shopper
from tests.support.push_service import Later, LocalPushService, subscribe

FCM = "https://fcm.googleapis.com/fcm/send/cKx1:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx"


async def offer_for(system: System, push: LocalPushService, **kw) -> tuple:
    """A store with yoghurt in stock, a welcome campaign, and a subscribed shopper."""
    await shop(system, ("YOG-1", "Plain yoghurt", 5), names={"YOG-1": {"fr": "Yaourt nature"}})
    await campaign(system, "welcome", "YOG-1")
    return await shopper(system, push, **EVERY_PURPOSE, **kw)


async def test_the_vapid_public_key_is_public_and_stays_the_same(system: System) -> None:
    first = await system.notify.get("/v1/vapid-public-key")
    assert first.status_code == 200
    key = first.json()["public_key"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4  # what PushManager.subscribe() takes as applicationServerKey
    assert (await system.notify.get("/v1/vapid-public-key")).json()["public_key"] == key


async def test_a_subscription_on_a_browser_push_service_is_kept_and_a_new_one_replaces_it(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who = await shopper(system, push, **EVERY_PURPOSE)
    body = {**who.sub.subscription(), "endpoint": FCM}
    r = await system.notify.put(f"/v1/devices/{who.device_id}/push-subscription", json=body, headers=who.auth)
    assert r.status_code == 200 and r.json()["endpoint"] == FCM
    rows = await db.fetch("SELECT address AS endpoint FROM notify.push_targets WHERE device_id = $1", who.device_id)
    assert [r["endpoint"] for r in rows] == [FCM]


async def test_any_other_subscription_is_422_naming_the_field(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who = await shopper(system, **EVERY_PURPOSE)
    good = push.subscriber("unused").subscription()
    for change, field in [
        ({"endpoint": "http://169.254.169.254/latest/meta-data/"}, "endpoint"),
        ({"endpoint": "https://10.0.0.5/push/abc"}, "endpoint"),
        ({"endpoint": "https://notify.internal.example/push"}, "endpoint"),
        ({"endpoint": "http://fcm.googleapis.com/fcm/send/abc"}, "endpoint"),
        ({"endpoint": f"{system.settings.geo_url}/push/x"}, "endpoint"),  # loopback, but not a listed push host
        ({"keys": {"p256dh": "BAAA", "auth": good["keys"]["auth"]}}, "keys.p256dh"),
        ({"keys": {"p256dh": None, "auth": good["keys"]["auth"]}}, "keys.p256dh"),
        ({"keys": {"auth": good["keys"]["auth"]}}, "keys.p256dh"),
        ({"keys": {"p256dh": good["keys"]["p256dh"], "auth": "c2hvcnQ"}}, "keys.auth"),
    ]:
        r = await system.notify.put(
            f"/v1/devices/{who.device_id}/push-subscription", json={**good, **change}, headers=who.auth
        )
        assert r.status_code == 422 and r.json()["field"] == field, (change, r.text)
    assert await db.fetchval("SELECT count(*) FROM notify.push_targets") == 0


async def test_only_the_device_itself_may_set_its_subscription(system: System, push: LocalPushService) -> None:
    owner, other = await shopper(system, **EVERY_PURPOSE), await shopper(system, **EVERY_PURPOSE)
    body = push.subscriber("unused").subscription()
    r = await system.notify.put(f"/v1/devices/{owner.device_id}/push-subscription", json=body, headers=other.auth)
    assert r.status_code == 403


async def test_an_offer_reaches_the_device_signed_encrypted_and_in_its_language(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who = await offer_for(system, push)
    entered = await enter(system, who)

    [message] = await settled(system, who)
    assert message["status"] == "sent" and message["event_id"] == entered["id"] and message["sent_at"]
    [received] = push.received(who.sub)
    assert push.refused == []  # VAPID signature, aud, exp, sub all checked; payload decrypted
    assert received.payload["title"] == "Bienvenue" and received.payload["body"] == "Yaourt nature à -20 % aujourd'hui"
    assert received.payload["id"] == message["id"] and received.payload["lang"] == "fr"
    assert received.headers["urgency"] == "low"
    assert received.topic == received.payload["tag"] and len(received.topic) <= 32
    assert 0 < int(received.headers["ttl"]) <= 15 * 60
    [attempt] = await attempts(db, message["id"])
    assert (attempt["outcome"], attempt["status_code"], attempt["push_origin"]) == ("accepted", 201, push.origin)


async def test_a_503_is_retried_and_every_attempt_is_recorded(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who = await offer_for(system, push)
    push.answer(who.sub, 503)
    await enter(system, who)

    [message] = await settled(system, who)
    assert message["status"] == "sent" and message["attempts"] == 2
    outcomes = [(a["outcome"], a["status_code"]) for a in await attempts(db, message["id"])]
    assert outcomes == [("unavailable", 503), ("accepted", 201)]
    assert len(push.inbox(who.sub)) == 1


async def test_a_429_is_retried_no_sooner_than_its_retry_after(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who = await offer_for(system, push)
    push.answer(who.sub, (429, "2"))
    await enter(system, who)

    [message] = await settled(system, who)
    first, second = await attempts(db, message["id"])
    assert (first["outcome"], first["retry_after_s"], second["outcome"]) == ("unavailable", 2, "accepted")
    assert second["started_at"] >= first["finished_at"] + timedelta(seconds=2)


async def test_503_then_429_with_retry_after_then_201_is_delivered_once_after_the_wait(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who = await offer_for(system, push)
    push.answer(who.sub, 503, (429, "2"))
    await enter(system, who)

    [message] = await settled(system, who)
    assert message["status"] == "sent" and message["attempts"] == 3
    tries = await attempts(db, message["id"])
    assert [(a["outcome"], a["status_code"]) for a in tries] == [
        ("unavailable", 503),
        ("unavailable", 429),
        ("accepted", 201),
    ]
    assert tries[2]["started_at"] >= tries[1]["finished_at"] + timedelta(seconds=2)
    assert len(push.inbox(who.sub)) == 1


@pytest.mark.parametrize("gone", [404, 410])
async def test_a_gone_subscription_is_deleted_and_the_message_failed(
    system: System, push: LocalPushService, db: asyncpg.Connection, gone: int
) -> None:
    who = await offer_for(system, push)
    push.answer(who.sub, gone)
    await enter(system, who)

    [message] = await settled(system, who)
    assert (message["status"], message["reason"]) == ("failed", "subscription_gone")
    assert await db.fetchval("SELECT count(*) FROM notify.push_targets WHERE device_id = $1", who.device_id) == 0
    assert [a["outcome"] for a in await attempts(db, message["id"])] == ["gone"]


async def test_a_gone_answer_for_an_old_endpoint_keeps_the_devices_new_subscription(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who = await offer_for(system, push)
    late_gone = Later(410)
    push.answer(who.sub, late_gone)
    await enter(system, who)
    await eventually(lambda: _one(push.received(who.sub)))

    renewed = await subscribe(system.notify, push, who.device_id, who.auth)  # while the 410 is on its way
    late_gone.release.set()

    [message] = await settled(system, who)
    assert message["reason"] == "subscription_gone"
    endpoints = await db.fetch(
        "SELECT address AS endpoint FROM notify.push_targets WHERE device_id = $1", who.device_id
    )
    assert [e["endpoint"] for e in endpoints] == [renewed.endpoint]


async def _one(items: list) -> bool:
    return len(items) == 1


async def test_a_redirect_out_of_the_allowed_push_services_is_not_followed(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    async with LocalPushService() as inside:  # a host on our side that is not a listed push service
        target = inside.subscriber("unused")
        who = await offer_for(system, push)
        push.answer(who.sub, ("redirect", target.endpoint))
        await enter(system, who)

        [message] = await settled(system, who)
        assert (message["status"], message["reason"]) == ("failed", "endpoint_not_allowed")
        assert inside.pushes == [] and inside.refused == []
        assert [a["outcome"] for a in await attempts(db, message["id"])] == ["refused"]


async def test_without_a_subscription_the_offer_is_suppressed_as_no_subscription(
    system: System, push: LocalPushService
) -> None:
    await offer_for(system, push)
    who = await shopper(system, **EVERY_PURPOSE)
    await enter(system, who)

    [message] = await eventually(lambda: messages(system, who))
    assert (message["status"], message["reason"], message.get("body")) == ("suppressed", "no_subscription", None)


async def test_after_unsubscribing_nothing_is_pushed(system: System, push: LocalPushService) -> None:
    who = await offer_for(system, push)
    r = await system.notify.delete(f"/v1/devices/{who.device_id}/push-subscription", headers=who.auth)
    assert r.status_code == 204
    await enter(system, who)

    [message] = await eventually(lambda: messages(system, who))
    assert message["reason"] == "no_subscription" and push.pushes == []
