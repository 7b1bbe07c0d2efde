"""The APNs channel against the APNs stand-in (real TLS, HTTP/2, JWT signatures checked with the key's
public half): delivery, one connection and one provider JWT for many concurrent pushes, a new JWT and
one retry when APNs calls it expired, and every answer as the sender needs it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.notify.push.apns import ApnsChannel
from services.notify.push.channel import Push, Target
from services.notify.push.egress import PushEgress
from services.notify.push.keys import apns_key
from services.notify.push.native import native_channels
from services.notify.push.push_urls import PushServices
from services.notify.settings import NotifySettings
from tests.support.apns_service import ApnsKey, LocalApns, device_token, make_apns_key
from tests.support.push_pki import TestPki, make_pki

TOPIC = "com.example.shop"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def key() -> ApnsKey:
    return make_apns_key()


@pytest.fixture
async def apns(pki: TestPki, key: ApnsKey) -> AsyncIterator[LocalApns]:
    async with LocalApns(pki, key, topic=TOPIC) as service:
        yield service


def config(apns: LocalApns, pki: TestPki, key: ApnsKey, tmp_path: Path, **changes: str) -> NotifySettings:
    values = {
        "apns_key_file": str(key.write(tmp_path / f"AuthKey_{key.key_id}.p8")),
        "apns_key_id": key.key_id,
        "apns_team_id": key.team_id,
        "apns_topic": TOPIC,
        "apns_url": apns.url,
        "apns_sandbox_url": apns.url,
        "push_ca_file": str(pki.ca_file),
        "push_timeout_s": 5.0,
        **changes,
    }
    return NotifySettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def channel(apns: LocalApns, pki: TestPki, key: ApnsKey, tmp_path: Path) -> AsyncIterator[ApnsChannel]:
    """As notify makes it: from the settings, the stand-in's host listed in ACCUEIL_PUSH_HOSTS."""
    (made,) = native_channels(config(apns, pki, key, tmp_path), PushServices.from_hosts([apns.host]))
    assert isinstance(made, ApnsChannel)
    yield made
    await made.close()


def push_to(token: str, message_id: int = 1, environment: str = "production", body: str = "Compost en stock") -> Push:
    return Push(
        message_id=message_id,
        purpose="offers",
        target=Target("apns", token, environment=environment),  # type: ignore[arg-type]
        title="Au jardin",
        body=body,
        locale="fr",
        topic=f"offer-{message_id}",
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
        urgency="normal",
        why="Vous étiez au magasin Rivoli. Vous avez accepté de recevoir des offres.",
    )


async def test_a_push_is_delivered_with_the_headers_and_payload_apns_expects(
    apns: LocalApns, channel: ApnsChannel
) -> None:
    token = device_token()
    push = push_to(token, message_id=42)
    answer = await channel.send(push)
    assert (answer.label, answer.code) == ("accepted", 200)
    (delivered,) = apns.delivered
    assert delivered.token == token
    assert delivered.payload == {
        "aps": {"alert": {"title": "Au jardin", "body": "Compost en stock"}},
        "accueil": {
            "message_id": 42,
            "purpose": "offers",
            "why": "Vous étiez au magasin Rivoli. Vous avez accepté de recevoir des offres.",
        },
    }
    headers = delivered.headers
    assert (headers["apns-topic"], headers["apns-push-type"], headers["apns-priority"]) == (TOPIC, "alert", "10")
    assert headers["apns-collapse-id"] == "offer-42"
    assert headers["apns-expiration"] == str(int(push.expires_at.timestamp()))
    assert channel.origin(push.target) == apns.url and channel.refusal(push.target) is None


async def test_many_concurrent_pushes_share_one_connection_and_one_provider_jwt(
    apns: LocalApns, channel: ApnsChannel
) -> None:
    tokens = [device_token() for _ in range(600)]
    answers = await asyncio.gather(*(channel.send(push_to(t, n)) for n, t in enumerate(tokens)))
    assert {a.label for a in answers} == {"accepted"}
    assert sorted(p.token for p in apns.delivered) == sorted(tokens)
    assert apns.connections == 1 and channel.connections_made == 1
    assert len(apns.provider_tokens) == 1


async def test_an_expired_provider_jwt_is_replaced_once_and_each_push_retried_once(
    apns: LocalApns, channel: ApnsChannel
) -> None:
    assert (await channel.send(push_to(device_token(), 1))).label == "accepted"
    apns.expire_provider_token()
    tokens = [device_token() for _ in range(50)]
    answers = await asyncio.gather(*(channel.send(push_to(t, n)) for n, t in enumerate(tokens, 2)))
    assert {a.label for a in answers} == {"accepted"}
    assert len(apns.provider_tokens) == 2  # one new JWT for all fifty
    for token in tokens:  # at most one refusal and one retry each
        assert [p.status for p in apns.pushes if p.token == token] in ([200], [403, 200])
    assert channel.provider_tokens.signed == 2


async def test_a_jwt_is_renewed_after_50_minutes_and_apns_takes_the_new_one(
    apns: LocalApns, pki: TestPki, key: ApnsKey, tmp_path: Path
) -> None:
    now = time.time()
    clock = [now - 50 * 60]
    channel = ApnsChannel(
        apns_key(str(key.write(tmp_path / "k.p8")), key.key_id, key.team_id),
        TOPIC,
        PushEgress(PushServices.from_hosts([apns.host]), ca_file=str(pki.ca_file)),
        url=apns.url,
        clock=lambda: clock[0],
    )
    try:
        assert (await channel.send(push_to(device_token(), 1))).label == "accepted"
        clock[0] = now - 1
        assert (await channel.send(push_to(device_token(), 2))).label == "accepted"  # same JWT, 50 min less 1 s
        clock[0] = now
        assert (await channel.send(push_to(device_token(), 3))).label == "accepted"
    finally:
        await channel.close()
    assert len(apns.provider_tokens) == 2 and [p.status for p in apns.pushes] == [200, 200, 200]


async def test_a_token_apns_no_longer_knows_is_unregistered_since_when_it_says(
    apns: LocalApns, channel: ApnsChannel
) -> None:
    gone, bad, other_app = device_token(), device_token(), device_token()
    at = datetime(2026, 12, 1, 8, 30, 15, 125_000, tzinfo=UTC)
    apns.unregister(gone, at)
    apns.fail(bad, (400, "BadDeviceToken"))
    apns.fail(other_app, (400, "DeviceTokenNotForTopic"))
    answer = await channel.send(push_to(gone))
    assert (answer.label, answer.code, answer.gone_since) == ("unregistered", 410, at)
    assert answer.error == "410 Unregistered"
    for token in (bad, other_app):
        answer = await channel.send(push_to(token))
        assert (answer.label, answer.code, answer.gone_since) == ("unregistered", 400, None)


@pytest.mark.parametrize(
    ("status", "reason"), [(429, "TooManyRequests"), (500, "InternalServerError"), (503, "ServiceUnavailable")]
)
async def test_a_busy_or_failing_apns_is_unavailable(
    status: int, reason: str, apns: LocalApns, channel: ApnsChannel
) -> None:
    token = device_token()
    apns.fail(token, (status, reason))
    answer = await channel.send(push_to(token))
    assert (answer.label, answer.code, answer.error) == ("unavailable", status, f"{status} {reason}")
    assert (await channel.send(push_to(token))).label == "accepted"  # the sender's retry, later
    assert len(apns.delivered) == 1


async def test_a_payload_apns_refuses_is_rejected_and_an_oversized_body_is_shortened(
    apns: LocalApns, channel: ApnsChannel
) -> None:
    token = device_token()
    apns.fail(token, (400, "BadExpirationDate"))
    assert (await channel.send(push_to(token))).label == "rejected"
    answer = await channel.send(push_to(token, body="é" * 5000))
    assert answer.label == "accepted"
    assert apns.delivered[-1].payload["aps"]["alert"]["body"].endswith("…")


async def test_a_sandbox_token_goes_to_the_sandbox(pki: TestPki, key: ApnsKey, tmp_path: Path) -> None:
    async with LocalApns(pki, key, topic=TOPIC) as production, LocalApns(pki, key, topic=TOPIC) as sandbox:
        settings = config(production, pki, key, tmp_path, apns_sandbox_url=sandbox.url)
        (channel,) = native_channels(settings, PushServices.from_hosts([production.host, sandbox.host]))
        try:
            target = push_to(device_token(), environment="sandbox")
            assert channel.origin(target.target) == sandbox.url
            assert (await channel.send(target)).label == "accepted"
            assert (await channel.send(push_to(device_token()))).label == "accepted"
        finally:
            await channel.close()
    assert (len(sandbox.delivered), len(production.delivered)) == (1, 1)


async def test_an_unreachable_apns_is_no_answer(
    pki: TestPki, key: ApnsKey, tmp_path: Path, unused_tcp_port: int
) -> None:
    async with LocalApns(pki, key, topic=TOPIC) as apns:
        settings = config(apns, pki, key, tmp_path, apns_url=f"https://localhost:{unused_tcp_port}")
    (channel,) = native_channels(settings, PushServices.from_hosts([f"localhost:{unused_tcp_port}"]))
    try:
        answer = await channel.send(push_to(device_token()))
    finally:
        await channel.close()
    assert answer.label == "no_answer" and "cannot connect" in (answer.error or "")


async def test_an_apns_host_the_egress_rules_do_not_allow_is_refused(
    apns: LocalApns, pki: TestPki, key: ApnsKey, tmp_path: Path
) -> None:
    (channel,) = native_channels(config(apns, pki, key, tmp_path), PushServices())  # localhost not listed
    try:
        answer = await channel.send(push_to(device_token()))
    finally:
        await channel.close()
    assert answer.label == "refused" and "no public address" in (answer.error or "")
    assert apns.connections == 0


async def test_no_error_names_the_key_or_a_jwt(apns: LocalApns, channel: ApnsChannel, key: ApnsKey) -> None:
    token = device_token()
    apns.fail(token, (403, "InvalidProviderToken"))
    answer = await channel.send(push_to(token))
    assert answer.label == "rejected"
    jwt = apns.pushes[-1].headers["authorization"].split()[1]
    assert jwt not in repr(answer) and key.private_pem.decode() not in repr(answer)
