"""Native push for real: the shop's iOS and Android apps get their messages through APNs and FCM
stand-ins over TLS and HTTP/2 (provider JWTs and OAuth assertions verified with the keys' public
halves), in their language, once, whatever the push services answer or however notify dies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.notify.settings import NotifySettings
from tests.conftest import System, eventually
from tests.support.apns_service import device_token
from tests.support.builders import (
    EVERY_PURPOSE,
    SKU,
    attempts,
    campaign,
    create_store,
    enter,
    pickup_store,
    place_order,
    product,
    pull_in,
    settled,
    shop,
    shopper,
    staff_member,
)
from tests.support.fcm_service import registration_token
from tests.support.native_apps import (
    TOPIC,
    AppShopper,
    NativePush,
    app_shopper,
    native_push,
    put_push_token,
    token_body,
)
from tests.support.processes import notify_apart
from tests.support.push_service import LocalPushService, subscribe

OFFER_TTL_S = 15 * 60
FRENCH = {"title": "Bienvenue", "body": "Yaourt nature à -20 % aujourd'hui"}
ENGLISH = {"title": "Welcome", "body": "Plain yoghurt at 20% off today"}


@pytest.fixture(scope="module")
async def native(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NativePush]:
    """One set of stand-ins for the module: every test's phones have tokens of their own."""
    async with native_push(tmp_path_factory.mktemp("native")) as stand_ins:
        yield stand_ins


@pytest.fixture
def push_hosts(push: LocalPushService, native: NativePush) -> tuple[str, ...]:
    return (push.host, *native.hosts)


@pytest.fixture
def configs(native: NativePush, request: pytest.FixtureRequest) -> dict[str, Any]:
    """notify pushing to the stand-ins; a test may change its settings (parametrize indirectly)."""
    return {"notify": native.settings(**getattr(request, "param", {}))}


async def offer_in_store(system: System) -> None:
    """The store with yoghurt on offer to whoever walks in, and vegetable boxes to order for pickup."""
    await shop(system, ("YOG-1", "Plain yoghurt", 5), names={"YOG-1": {"fr": "Yaourt nature"}})
    await product(system, SKU, "Veg box", 5, category="fresh")
    await campaign(system, "welcome", "YOG-1")


async def order_ready(system: System, who: AppShopper) -> None:
    """The shopper orders a box and staff prepare it: a pickup update is decided for the phone."""
    order_id = await place_order(system, who)
    r = await system.inventory.post(f"/v1/orders/{order_id}/ready", headers=system.admin)
    assert r.status_code == 200, r.text


async def iphone(system: System, **kw: Any) -> AppShopper:
    return await app_shopper(system, "apns", device_token(), **EVERY_PURPOSE, **kw)


async def android(system: System, **kw: Any) -> AppShopper:
    return await app_shopper(system, "fcm", registration_token(), **EVERY_PURPOSE, **kw)


async def target_of(db: asyncpg.Connection, who: AppShopper) -> tuple[str, str] | None:
    row = await db.fetchrow("SELECT provider, address FROM notify.push_targets WHERE recipient_id = $1", who.device_id)
    return None if row is None else (row["provider"], row["address"])


def answers(native: NativePush, who: AppShopper) -> list[int | None]:
    return [p.status for p in native.requests(who)]


def unanswered(native: NativePush, phones: Iterable[AppShopper], count: int) -> Callable[[], Any]:
    """A probe: each phone's push service has taken `count` requests for it and answered none."""

    async def probe() -> bool:
        return all(answers(native, who) == [None] * count for who in phones)

    return probe


async def status_of(db: asyncpg.Connection, who: AppShopper) -> str:
    return str(await db.fetchval("SELECT status FROM notify.messages WHERE device_id = $1", who.device_id))


# ------------------------------------------------------------------------------ delivery


async def test_an_iphone_and_an_android_phone_each_get_the_offer_in_their_language(
    system: System, native: NativePush, db: asyncpg.Connection
) -> None:
    await offer_in_store(system)
    camille = await iphone(system, locale="fr-FR")
    ellis = await android(system, locale="en-GB")
    await asyncio.gather(enter(system, camille), enter(system, ellis))

    [to_camille] = await settled(system, camille)
    [to_ellis] = await settled(system, ellis)
    assert (to_camille["status"], to_camille["locale"]) == ("sent", "fr")
    assert (to_ellis["status"], to_ellis["locale"]) == ("sent", "en")

    [apns] = await native.arrived(camille)
    assert apns.payload == {
        "aps": {"alert": FRENCH},
        "accueil": {"message_id": to_camille["id"], "purpose": "offers", "why": to_camille["why"]["fr"]},
    }
    headers = apns.headers
    assert (headers["apns-topic"], headers["apns-push-type"], headers["apns-priority"]) == (TOPIC, "alert", "10")
    assert time.time() < int(headers["apns-expiration"]) <= time.time() + OFFER_TTL_S
    assert 0 < len(headers["apns-collapse-id"].encode()) <= 64

    [fcm] = await native.arrived(ellis)
    sent = fcm.message
    assert (sent["token"], sent["notification"]) == (ellis.token, ENGLISH)
    assert sent["data"] == {"message_id": str(to_ellis["id"]), "purpose": "offers", "why": to_ellis["why"]["en"]}
    assert sent["android"]["priority"] == "high" and 0 < len(sent["android"]["collapse_key"]) <= 32
    assert 0 < int(sent["android"]["ttl"].removesuffix("s")) <= OFFER_TTL_S

    for message, origin in ((to_camille, native.apns.url), (to_ellis, native.fcm.url)):
        [attempt] = await attempts(db, message["id"])
        assert (attempt["outcome"], attempt["status_code"], attempt["push_origin"]) == ("accepted", 200, origin)

    # Each app reports the notification shown, naming it by the id its push carried.
    pushed_ids = (apns.payload["accueil"]["message_id"], fcm.message["data"]["message_id"])
    for who, message_id in zip((camille, ellis), pushed_ids, strict=True):
        r = await system.notify.post(
            f"/v1/messages/{message_id}/events",
            json={"type": "shown", "ts": datetime.now(UTC).isoformat()},
            headers=who.auth,
        )
        assert r.status_code == 200 and r.json()["counted"] is True, r.text
    results = (await system.notify.get("/v1/campaigns/welcome/results", headers=system.admin)).json()
    assert (results["sent"], results["shown"]) == (2, 2)


# --------------------------------------------------------------------------- dead tokens


def gone_at_apns(native: NativePush, who: AppShopper) -> None:
    native.apns.unregister(who.token, at=datetime.now(UTC))


GONE: dict[str, tuple[str, Callable[[NativePush, AppShopper], None], int]] = {
    "apns 410 Unregistered": ("apns", gone_at_apns, 410),
    "apns 400 BadDeviceToken": ("apns", lambda native, who: native.apns.fail(who.token, (400, "BadDeviceToken")), 400),
    "fcm 404 UNREGISTERED": ("fcm", lambda native, who: native.fcm.unregister(who.token), 404),
    "fcm 400 INVALID_ARGUMENT message.token": ("fcm", lambda native, who: native.fcm.invalid_token(who.token), 400),
}


@pytest.mark.parametrize("answer", list(GONE))
async def test_a_token_the_push_service_no_longer_knows_is_removed_and_the_next_message_has_no_target(
    system: System, native: NativePush, db: asyncpg.Connection, answer: str
) -> None:
    provider, uninstall, status = GONE[answer]
    await offer_in_store(system)
    who = await (iphone if provider == "apns" else android)(system)
    uninstall(native, who)
    await enter(system, who)

    [offer] = await settled(system, who)
    assert (offer["status"], offer["reason"]) == ("failed", "unregistered")
    assert [(a["outcome"], a["status_code"]) for a in await attempts(db, offer["id"])] == [("unregistered", status)]
    assert await target_of(db, who) is None

    await order_ready(system, who)
    _, update = await settled(system, who, 2)
    assert (update["purpose"], update["status"]) == ("pickup_updates", "suppressed")
    assert update["reason"] == "no_subscription"
    assert answers(native, who) == [status]


async def test_an_apns_token_registered_again_after_apples_410_timestamp_is_kept(
    system: System, native: NativePush, db: asyncpg.Connection
) -> None:
    await offer_in_store(system)
    gone_at = datetime.now(UTC) - timedelta(minutes=5)  # Apple saw the app go five minutes ago...
    who = await iphone(system)  # ...and it has registered the same token since
    native.apns.unregister(who.token, at=gone_at)
    await enter(system, who)

    [offer] = await settled(system, who)
    assert (offer["status"], offer["reason"]) == ("failed", "unregistered")
    assert await target_of(db, who) == ("apns", who.token)

    native.apns.register(who.token)
    await order_ready(system, who)
    _, update = await settled(system, who, 2)
    assert (update["purpose"], update["status"]) == ("pickup_updates", "sent")
    assert answers(native, who) == [410, 200]


# ------------------------------------------------------------------------------- retries


async def test_429_and_503_are_retried_with_backoff_and_the_offer_arrives_once(
    system: System, native: NativePush, db: asyncpg.Connection
) -> None:
    await offer_in_store(system)
    camille, ellis = await iphone(system), await android(system)
    native.apns.fail(camille.token, (429, "TooManyRequests"), (503, "ServiceUnavailable"))
    # FCM asks for 2 s: longer than the 1 s the first backoff would wait.
    native.fcm.fail(ellis.token, (429, "QUOTA_EXCEEDED", 2), (503, "UNAVAILABLE"))
    await asyncio.gather(enter(system, camille), enter(system, ellis))

    for who in (camille, ellis):
        [message] = await settled(system, who)
        assert (message["status"], message["attempts"]) == ("sent", 3)
        assert answers(native, who) == [429, 503, 200]
        assert len(await native.arrived(who)) == 1
        tries = await attempts(db, message["id"])
        assert [(a["outcome"], a["status_code"]) for a in tries] == [
            ("unavailable", 429),
            ("unavailable", 503),
            ("accepted", 200),
        ]
        assert tries[1]["started_at"] >= tries[0]["finished_at"] + timedelta(seconds=1)
        assert tries[2]["started_at"] >= tries[1]["finished_at"] + timedelta(seconds=2)

    # The same notification each time: APNs sees one collapse id and one payload, FCM one message.
    pushes = native.requests(camille)
    assert len({(p.collapse_id, p.headers["apns-expiration"], str(p.payload)) for p in pushes}) == 1
    sends = native.requests(ellis)
    assert len({(str(s.message["data"]), s.message["android"]["collapse_key"]) for s in sends}) == 1

    # No sooner than FCM asked, by the push service's clock and by notify's own record.
    [message] = await settled(system, ellis)
    first, second, _ = await attempts(db, message["id"])
    assert first["retry_after_s"] == 2
    assert second["started_at"] >= first["finished_at"] + timedelta(seconds=2)
    assert sends[1].received_at - sends[0].received_at >= 2


async def test_an_expired_provider_jwt_is_replaced_and_the_push_retried_once(
    system: System, native: NativePush, db: asyncpg.Connection
) -> None:
    await offer_in_store(system)
    first, second = await iphone(system), await iphone(system)
    await enter(system, first)
    [before] = await native.arrived(first)

    native.apns.expire_provider_token()  # an hour has gone by, as far as APNs is concerned
    await enter(system, second)

    [message] = await settled(system, second)
    assert (message["status"], message["attempts"]) == ("sent", 1)
    refused, delivered = native.requests(second)
    assert (refused.status, refused.reason, delivered.status) == (403, "ExpiredProviderToken", 200)
    assert refused.headers["authorization"] == before.headers["authorization"]  # the JWT in use was reused...
    assert delivered.headers["authorization"] != refused.headers["authorization"]  # ...then signed anew once
    assert delivered.jwt_iat is not None and before.jwt_iat is not None and delivered.jwt_iat >= before.jwt_iat
    assert [(a["outcome"], a["status_code"]) for a in await attempts(db, message["id"])] == [("accepted", 200)]


@pytest.mark.parametrize("configs", [{"push_timeout_s": 2}], indirect=True, ids=["push timeout 2 s"])
async def test_a_push_service_that_does_not_answer_holds_up_only_its_own_message(
    system: System, native: NativePush, db: asyncpg.Connection
) -> None:
    await offer_in_store(system)
    ellis, camille = await android(system), await iphone(system)
    native.fcm.hang(ellis.token)
    await enter(system, ellis)
    await eventually(unanswered(native, [ellis], 1))
    await enter(system, camille)

    [to_camille] = await settled(system, camille)
    [to_ellis] = await settled(system, ellis)
    waited, delivered = await attempts(db, to_ellis["id"])
    assert (waited["outcome"], delivered["outcome"], to_ellis["status"]) == ("no_answer", "accepted", "sent")
    assert answers(native, ellis) == [None, 200]
    # Camille's offer did not wait for FCM's answer that never came.
    assert to_camille["status"] == "sent"
    assert datetime.fromisoformat(to_camille["sent_at"]) < waited["finished_at"]


# ----------------------------------------------------------------------- staff and pickup


async def test_staff_alerts_reach_the_staff_app_through_fcm(
    system: System, native: NativePush, db: asyncpg.Connection
) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    phone = registration_token()
    r = await put_push_token(system.notify, f"staff/{alex.staff_id}", alex.auth, token_body("fcm", phone))
    assert r.status_code == 200, r.text
    assert r.json()["provider"] == "fcm" and "environment" not in r.json()
    camille = await app_shopper(
        system, "apns", device_token(), locale="en-GB", location=False, offers=False, pickup_updates=True
    )

    await pull_in(system, camille, await place_order(system, camille, name="Camille"))

    async def alex_phone() -> list[Any] | None:
        delivered = [s for s in native.fcm.delivered if s.token == phone]
        return delivered if len(delivered) >= 2 else None

    approaching, arrived = await eventually(alex_phone)
    listed = (await system.notify.get("/v1/stores/rivoli/alerts", headers=alex.auth)).json()["alerts"]
    texts = {a["kind"]: a["text"] for a in listed}
    assert [s.message["notification"]["body"] for s in (approaching, arrived)] == [
        texts["approaching"],
        texts["arrived"],
    ]
    assert texts["arrived"] == "Camille has arrived — bay 2"

    async def alex_messages() -> list[asyncpg.Record] | None:  # settled: the answers are recorded
        found = await db.fetch("SELECT id, status FROM notify.messages WHERE staff_id = $1 ORDER BY id", alex.staff_id)
        return found if all(m["status"] not in ("pending", "sending") for m in found) else None

    staff_messages = await eventually(alex_messages)
    assert [m["status"] for m in staff_messages] == ["sent", "sent"]
    for send, message in zip((approaching, arrived), staff_messages, strict=True):
        assert send.message["data"] == {"message_id": str(message["id"]), "purpose": "staff_alerts"}
        assert send.message["android"]["priority"] == "high"
    # One collapse key per order: "has arrived" replaces an unread "min away" on the phone.
    assert approaching.message["android"]["collapse_key"] == arrived.message["android"]["collapse_key"]

    # And Camille's iPhone heard that staff saw her arrive.
    [seen] = await native.arrived(camille)
    assert seen.payload["aps"]["alert"]["title"] == "We see you"
    assert seen.payload["accueil"]["purpose"] == "pickup_updates"


# --------------------------------------------------------------------- push-token rules


async def test_a_token_that_is_not_one_or_an_environment_for_fcm_is_422_naming_the_field(
    system: System, db: asyncpg.Connection
) -> None:
    await create_store(system)
    who = await shopper(system, platform="ios")
    alex = await staff_member(system)
    for body, field in (
        (token_body("apns", "zz" * 32), "token"),  # not hex
        (token_body("apns", "ab" * 31), "token"),  # 31 bytes: too short for a device token
        (token_body("apns", "ab" * 32 + "/../x"), "token"),
        (token_body("apns", device_token(), "staging"), "environment"),
        (token_body("fcm", registration_token(), "production"), "environment"),  # APNs only
        (token_body("fcm", "short"), "token"),
        (token_body("fcm", registration_token()[:-1] + " "), "token"),
    ):
        for recipient, auth in ((f"devices/{who.device_id}", who.auth), (f"staff/{alex.staff_id}", alex.auth)):
            r = await put_push_token(system.notify, recipient, auth, body)
            assert (r.status_code, r.json().get("field")) == (422, field), (body, r.text)
    assert await db.fetchval("SELECT count(*) FROM notify.push_targets") == 0


async def test_a_sandbox_token_is_pushed_to_the_sandbox_apns(
    system: System, native: NativePush, db: asyncpg.Connection
) -> None:
    await offer_in_store(system)
    development_build = await iphone(system, environment="sandbox")
    app_store_build = await iphone(system)
    assert (development_build.environment, app_store_build.environment) == ("sandbox", "production")
    await asyncio.gather(enter(system, development_build), enter(system, app_store_build))

    [to_sandbox] = await settled(system, development_build)
    [to_production] = await settled(system, app_store_build)
    assert (to_sandbox["status"], to_production["status"]) == ("sent", "sent")
    assert len(await native.arrived(development_build)) == 1
    assert [p.token for p in native.apns.pushes if p.token == development_build.token] == []
    assert [p.token for p in native.sandbox.pushes if p.token == app_store_build.token] == []
    [sandbox_try] = await attempts(db, to_sandbox["id"])
    assert sandbox_try["push_origin"] == native.sandbox.url


async def exported_target(system: System, who: Any) -> dict[str, Any] | None:
    r = await system.notify.get(f"/v1/devices/{who.device_id}/export", headers=who.auth)
    assert r.status_code == 200, r.text
    target: dict[str, Any] | None = r.json()["notify"]["push_subscription"]
    return target


async def test_a_native_token_and_a_web_push_subscription_replace_each_other(
    system: System, native: NativePush, push: LocalPushService
) -> None:
    await offer_in_store(system)
    who = await shopper(system, push, **EVERY_PURPOSE)  # the shop's web page first...
    web = await exported_target(system, who)
    assert web is not None and (web["provider"], web["endpoint"]) == ("webpush", who.sub.endpoint)

    token = device_token()  # ...then the app, on the same device
    r = await put_push_token(system.notify, f"devices/{who.device_id}", who.auth, token_body("apns", token))
    assert r.status_code == 200 and r.json()["environment"] == "production", r.text
    app = await exported_target(system, who)
    assert app is not None and (app["provider"], app["token"], app["environment"]) == ("apns", token, "production")
    assert "endpoint" not in app

    # Unsubscribing the browser leaves the app's token alone, and the offer goes to the app.
    r = await system.notify.delete(f"/v1/devices/{who.device_id}/push-subscription", headers=who.auth)
    assert r.status_code == 204
    assert (await exported_target(system, who) or {}).get("token") == token
    await enter(system, who)
    [offer] = await settled(system, who)
    assert offer["status"] == "sent"
    assert [p.token for p in native.apns.delivered if p.token == token] == [token]
    assert push.pushes == []

    # The browser again: it replaces the token; the app turning notifications off leaves it alone.
    sub = await subscribe(system.notify, push, who.device_id, who.auth)
    assert (await exported_target(system, who) or {}).get("endpoint") == sub.endpoint
    r = await system.notify.delete(f"/v1/devices/{who.device_id}/push-token", headers=who.auth)
    assert r.status_code == 204
    assert (await exported_target(system, who) or {}).get("endpoint") == sub.endpoint


# -------------------------------------------------------------------------------- crashes

PUSH_TIMEOUT_S = 2  # a killed sender's lease runs out 2 * 2 + 2 s after its claim


async def test_a_notify_killed_between_send_and_settle_sends_again_once_with_the_same_collapse_id(
    db_url: str, db: asyncpg.Connection, push: LocalPushService, native: NativePush, tmp_path: Path
) -> None:
    config: NotifySettings = native.settings(push_timeout_s=PUSH_TIMEOUT_S)
    env = {**native.environment(), "ACCUEIL_PUSH_TIMEOUT_S": str(PUSH_TIMEOUT_S)}
    async with notify_apart(db_url, tmp_path, (push.host, *native.hosts), config, env) as apart:
        system = apart.system
        notify = await apart.start_process()
        await offer_in_store(system)
        # Each push service takes the offer and its answer never comes, once; for two phones, twice.
        once = [await iphone(system), await android(system)]
        twice = [await iphone(system), await android(system)]
        for who in once + twice:
            native.standin(who.provider).hang(who.token, times=1 if who in once else 2)

        await asyncio.gather(*(enter(system, who) for who in once + twice))
        await eventually(unanswered(native, once + twice, 1), interval=0.01)
        notify.kill()
        assert [await status_of(db, who) for who in once + twice] == ["sending"] * 4  # cut short mid-send

        # A new notify finds the leases run out and sends each offer again, once; it dies in turn
        # while two of them are on their way again.
        notify = await apart.start_process()

        async def resent() -> bool:
            sent = [await status_of(db, who) for who in once] == ["sent", "sent"]
            return sent and await unanswered(native, twice, 2)()

        await eventually(resent, timeout=20, interval=0.01)
        notify.kill()

        # The third notify does not try a third time: it cannot know whether either copy was shown.
        await apart.start_here()
        for who in twice:
            [message] = await settled(system, who)
            assert (message["status"], message["reason"]) == ("failed", "uncertain_after_crash")
            assert [a["outcome"] for a in await attempts(db, message["id"])] == ["interrupted", "interrupted"]
            assert answers(native, who) == [None, None]
        for who in once:
            [message] = await settled(system, who)
            assert (message["status"], message["attempts"]) == ("sent", 2)
            assert [a["outcome"] for a in await attempts(db, message["id"])] == ["interrupted", "accepted"]
            assert answers(native, who) == [None, 200]

    # Every resend is the same notification as the copy the push service may hold: it replaces it.
    for who in once + twice:
        lost, again = native.requests(who)
        if who.provider == "apns":
            assert lost.payload == again.payload
            for header in ("apns-collapse-id", "apns-expiration"):
                assert lost.headers[header] == again.headers[header], header
        else:
            for part in ("notification", "data"):
                assert lost.message[part] == again.message[part], part
            assert lost.message["android"]["collapse_key"] == again.message["android"]["collapse_key"]
