"""The APNs stand-in is what the native push sender is tested against, so it is proved first with a
third-party client, aioapns: real sockets, real TLS trusting only the test CA, real ES256 provider
tokens. Then the strict checks: what Apple refuses, the stand-in refuses too."""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from aioapns import APNs, NotificationRequest, PushType
from aioapns.connection import APNsProductionClientProtocol

from tests.support.apns_service import ApnsKey, LocalApns, device_token, make_apns_key
from tests.support.push_pki import TestPki, make_pki
from tests.support.push_standins import StandInProcess

TOPIC = "com.example.shop"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def apns_key() -> ApnsKey:
    return make_apns_key()


@pytest.fixture
async def apns(pki: TestPki, apns_key: ApnsKey) -> AsyncIterator[LocalApns]:
    async with LocalApns(pki, apns_key, topic=TOPIC) as service:
        yield service


def aioapns_client(apns: LocalApns, pki: TestPki, key: ApnsKey) -> APNs:
    """aioapns, sending to the stand-in: its connection class names the host and port, its SSL
    context trusts the test CA and nothing else."""
    client = APNs(
        key=key.private_pem.decode(),
        key_id=key.key_id,
        team_id=key.team_id,
        topic=TOPIC,
        ssl_context=pki.client_context(),
        max_connection_attempts=1,
    )

    class ToStandIn(APNsProductionClientProtocol):
        APNS_SERVER = "localhost"
        APNS_PORT = apns.port

    client.pool.protocol_class = ToStandIn
    return client


def alert(token: str, **extra: Any) -> NotificationRequest:
    return NotificationRequest(
        device_token=token,
        message={"aps": {"alert": {"title": "Hello", "body": "Your order is ready"}}, "accueil": {"message_id": "m1"}},
        push_type=PushType.ALERT,
        priority=10,
        time_to_live=3600,
        **extra,
    )


async def test_aioapns_delivers_through_the_stand_in(apns: LocalApns, pki: TestPki, apns_key: ApnsKey) -> None:
    client = aioapns_client(apns, pki, apns_key)
    token = device_token()
    result = await client.send_notification(alert(token, collapse_key="m1"))
    assert result.is_successful, (result.status, result.description)

    [push] = await apns.wait_for(1)
    assert push.token == token
    assert push.payload["aps"]["alert"]["body"] == "Your order is ready"
    assert push.headers["apns-collapse-id"] == "m1"
    assert push.apns_id == result.notification_id  # the answer echoed the request's apns-id
    assert push.jwt_iat is not None and abs(push.jwt_iat - time.time()) < 120
    assert len(apns.provider_tokens) == 1 and apns.connections == 1


async def test_aioapns_hears_unregistered_with_its_timestamp(apns: LocalApns, pki: TestPki, apns_key: ApnsKey) -> None:
    client = aioapns_client(apns, pki, apns_key)
    token = device_token()
    gone = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    apns.unregister(token, at=gone)

    result = await client.send_notification(alert(token))
    assert (result.status, result.description) == ("410", "Unregistered")
    assert result.timestamp == int(gone.timestamp() * 1000)
    assert apns.delivered == []

    apns.register(token)  # the app registered again: the same token is good once more
    assert (await client.send_notification(alert(token))).is_successful


async def test_scripted_failures_come_in_order_then_delivery(apns: LocalApns, pki: TestPki, apns_key: ApnsKey) -> None:
    client = aioapns_client(apns, pki, apns_key)
    token = device_token()
    apns.fail(token, (429, "TooManyRequests"), (503, "ServiceUnavailable"), (400, "DeviceTokenNotForTopic"))
    answers = [await client.send_notification(alert(token)) for _ in range(4)]
    assert [(r.status, r.description) for r in answers] == [
        ("429", "TooManyRequests"),
        ("503", "ServiceUnavailable"),
        ("400", "DeviceTokenNotForTopic"),
        ("200", None),
    ]
    assert len(apns.pushes) == 4 and len(apns.delivered) == 1


async def test_an_expired_provider_token_is_refused_and_a_new_one_accepted(
    apns: LocalApns, pki: TestPki, apns_key: ApnsKey
) -> None:
    token = device_token()
    first = aioapns_client(apns, pki, apns_key)
    assert (await first.send_notification(alert(token))).is_successful

    apns.expire_provider_token()
    result = await first.send_notification(alert(token))
    assert (result.status, result.description) == ("403", "ExpiredProviderToken")

    # aioapns keeps its JWT for 30 minutes: a second client signs a new one, as a sender must after
    # ExpiredProviderToken; it is accepted at once (no TooManyProviderTokenUpdates), then the retry goes.
    second = aioapns_client(apns, pki, apns_key)
    assert (await second.send_notification(alert(token))).is_successful
    assert len(apns.provider_tokens) == 2
    assert [p.status for p in apns.pushes] == [200, 403, 200]


# The strict checks, with a plain HTTP/2 client (httpx) to send what aioapns never would.


def provider_jwt(key: ApnsKey, *, iat: int | None = None, **changes: Any) -> str:
    claims = {"iss": changes.pop("iss", key.team_id), "iat": int(time.time()) if iat is None else iat}
    headers = {"kid": changes.pop("kid", key.key_id)}
    return jwt.encode(claims, changes.pop("pem", key.private_pem), algorithm="ES256", headers=headers)


@pytest.fixture
async def h2(pki: TestPki) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(http2=True, verify=pki.client_context(("h2", "http/1.1")), trust_env=False) as c:
        yield c


async def post(
    h2: httpx.AsyncClient,
    apns: LocalApns,
    key: ApnsKey,
    *,
    token: str | None = None,
    jwt_: str | None = None,
    body: bytes | None = None,
    path: str | None = None,
    method: str = "POST",
    **headers: str,
) -> tuple[int, str | None]:
    sent = {
        "authorization": f"bearer {jwt_ or provider_jwt(key)}",
        "apns-topic": TOPIC,
        "apns-push-type": "alert",
        "apns-priority": "10",
        "apns-expiration": str(int(time.time()) + 3600),
        "apns-id": str(uuid.uuid4()),
    }
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    sent = {name: value for name, value in sent.items() if value != ""}
    if body is None:
        body = json.dumps({"aps": {"alert": {"title": "t", "body": "b"}}}).encode()
    r = await h2.request(
        method, apns.url + (path or f"/3/device/{token or device_token()}"), content=body, headers=sent
    )
    assert r.http_version == "HTTP/2"
    assert r.headers["apns-id"] == sent.get("apns-id", r.headers["apns-id"])
    if r.status_code == 200:
        assert r.content == b""
        return 200, None
    return r.status_code, r.json()["reason"]


async def test_a_jwt_signed_with_another_key_is_refused(
    apns: LocalApns, apns_key: ApnsKey, h2: httpx.AsyncClient
) -> None:
    other = make_apns_key(key_id=apns_key.key_id, team_id=apns_key.team_id)
    assert await post(h2, apns, apns_key, jwt_=provider_jwt(other)) == (403, "InvalidProviderToken")
    assert await post(h2, apns, apns_key, jwt_=provider_jwt(apns_key, kid="ZZZ123DEFG")) == (
        403,
        "InvalidProviderToken",
    )
    assert await post(h2, apns, apns_key, jwt_=provider_jwt(apns_key, iss="ZZZ123GHIJ")) == (
        403,
        "InvalidProviderToken",
    )
    assert await post(h2, apns, apns_key, authorization="") == (403, "MissingProviderToken")
    hour_ago = int(time.time()) - 3700
    assert await post(h2, apns, apns_key, jwt_=provider_jwt(apns_key, iat=hour_ago)) == (403, "ExpiredProviderToken")
    tomorrow = int(time.time()) + 86400
    assert await post(h2, apns, apns_key, jwt_=provider_jwt(apns_key, iat=tomorrow)) == (403, "InvalidProviderToken")
    assert apns.delivered == [] and apns.accepted_provider_tokens == [] and len(apns.provider_tokens) == 5


async def test_a_new_jwt_within_20_minutes_is_too_many_updates(
    apns: LocalApns, apns_key: ApnsKey, h2: httpx.AsyncClient, pki: TestPki
) -> None:
    old = provider_jwt(apns_key, iat=int(time.time()) - 600)
    assert await post(h2, apns, apns_key, jwt_=old) == (200, None)
    new = provider_jwt(apns_key)
    assert await post(h2, apns, apns_key, jwt_=new) == (429, "TooManyProviderTokenUpdates")
    assert await post(h2, apns, apns_key, jwt_=old) == (200, None)  # the one in use still goes
    assert apns.provider_tokens == [old, new] and apns.accepted_provider_tokens == [old]

    # Apple counts per connection: another connection (another process's, or aioapns's next one)
    # signs its own JWT, and may.
    async with httpx.AsyncClient(http2=True, verify=pki.client_context(), trust_env=False) as other:
        assert await post(other, apns, apns_key, jwt_=new) == (200, None)
    assert apns.accepted_provider_tokens == [old, new] and apns.connections == 2


async def test_headers_and_payload_are_checked(apns: LocalApns, apns_key: ApnsKey, h2: httpx.AsyncClient) -> None:
    async def answer(**kwargs: Any) -> tuple[int, str | None]:
        return await post(h2, apns, apns_key, jwt_=jwt_, **kwargs)

    jwt_ = provider_jwt(apns_key)
    assert await answer() == (200, None)
    assert await answer(apns_topic="com.example.other") == (400, "TopicDisallowed")
    assert await answer(apns_topic="") == (400, "MissingTopic")
    assert await answer(apns_push_type="") == (400, "InvalidPushType")
    assert await answer(apns_push_type="voip") == (400, "InvalidPushType")
    assert await answer(apns_priority="7") == (400, "BadPriority")
    assert await answer(apns_push_type="background", apns_priority="10") == (400, "BadPriority")
    assert await answer(apns_expiration="tomorrow") == (400, "BadExpirationDate")
    assert await answer(apns_collapse_id="x" * 64) == (200, None)
    assert await answer(apns_collapse_id="x" * 65) == (400, "BadCollapseId")
    assert await answer(apns_id="not-a-uuid") == (400, "BadMessageId")
    assert await answer(token="not-hex-" * 8) == (400, "BadDeviceToken")
    assert await answer(token="ab" * 16) == (400, "BadDeviceToken")  # too short for a device token
    assert await answer(path="/3/devices/abc") == (404, "BadPath")
    assert await answer(method="PUT") == (405, "MethodNotAllowed")
    assert await answer(body=b"") == (400, "PayloadEmpty")
    assert await answer(body=b'{"alert": "no aps"}') == (400, "PayloadEmpty")
    assert await answer(body=b"{not json") == (400, "BadPayload")

    filler = 4096 - len(json.dumps({"aps": {"alert": ""}}))
    exactly = json.dumps({"aps": {"alert": "x" * filler}}).encode()
    assert len(exactly) == 4096
    assert await answer(body=exactly) == (200, None)
    assert await answer(body=exactly.replace(b'"x', b'"xx')) == (413, "PayloadTooLarge")

    assert [p.status for p in apns.delivered] == [200, 200, 200]
    assert len(apns.pushes) == 20 and apns.connections == 1


async def test_a_headers_only_answer_when_delivered(apns: LocalApns, apns_key: ApnsKey, pki: TestPki) -> None:
    """aioapns reads every DATA frame as a JSON document: a 200 must come with none, not an empty one."""
    client = aioapns_client(apns, pki, apns_key)
    tokens = [device_token() for _ in range(50)]
    results = [await client.send_notification(alert(t)) for t in tokens]
    assert all(r.is_successful for r in results)
    assert apns.connections == 1  # one connection for all: none was dropped
    assert {p.token for p in await apns.wait_for(50)} == set(tokens)


async def test_a_client_that_does_not_trust_the_test_ca_is_turned_away(apns: LocalApns) -> None:
    async with httpx.AsyncClient(http2=True, verify=ssl.create_default_context(), trust_env=False) as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.post(apns.url + f"/3/device/{device_token()}")


def test_the_key_file_is_the_p8_apple_hands_out(apns_key: ApnsKey, tmp_path: Path) -> None:
    path = apns_key.write(tmp_path / f"AuthKey_{apns_key.key_id}.p8")
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert len(apns_key.key_id) == 10 and len(apns_key.team_id) == 10


async def test_the_stand_in_in_a_process_of_its_own(tmp_path: Path) -> None:
    """What the benchmarks run: the child makes the key and the PKI, the parent reads them."""
    async with StandInProcess("apns", tmp_path) as child:
        key = child.apns_key
        client = APNs(
            key=key.private_pem.decode(),
            key_id=key.key_id,
            team_id=key.team_id,
            topic=TOPIC,
            ssl_context=ssl.create_default_context(cafile=str(child.ca_file)),
        )

        class ToChild(APNsProductionClientProtocol):
            APNS_SERVER = "localhost"
            APNS_PORT = int(child.host.rpartition(":")[2])

        client.pool.protocol_class = ToChild
        token = device_token()
        for collapse_key in ("m1", "m2", "m1"):
            assert (await client.send_notification(alert(token, collapse_key=collapse_key))).is_successful
        assert await child.stats() == {"received": 3, "delivered": 3, "duplicates": 1}
    assert child.proc is not None and child.proc.returncode == 0


async def test_http1_is_turned_away_as_apns_does(apns: LocalApns, pki: TestPki) -> None:
    async with httpx.AsyncClient(verify=pki.client_context(("http/1.1",)), trust_env=False) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(apns.url + f"/3/device/{device_token()}", content=b'{"aps": {}}')
    assert apns.pushes == [] and apns.connections == 1


async def test_after_an_expired_token_the_same_connection_may_switch_once(
    apns: LocalApns, apns_key: ApnsKey, h2: httpx.AsyncClient
) -> None:
    """What a sender does on 403 ExpiredProviderToken: sign a new JWT, send again on its connection."""
    first = provider_jwt(apns_key, iat=int(time.time()) - 1200)
    assert await post(h2, apns, apns_key, jwt_=first) == (200, None)
    apns.expire_provider_token()
    assert await post(h2, apns, apns_key, jwt_=first) == (403, "ExpiredProviderToken")
    second = provider_jwt(apns_key)
    assert await post(h2, apns, apns_key, jwt_=second) == (200, None)
    assert await post(h2, apns, apns_key, jwt_=provider_jwt(apns_key, iat=int(time.time()) + 1)) == (
        429,
        "TooManyProviderTokenUpdates",
    )
    assert apns.accepted_provider_tokens == [first, second] and apns.connections == 1
