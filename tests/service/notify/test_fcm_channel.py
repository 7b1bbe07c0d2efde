"""The FCM channel against the FCM stand-in (real TLS and HTTP/2; the token endpoint checks the RS256
assertion with the service account's public key): delivery, one access token for many concurrent
sends, renewed before it expires or once after a 401, and every answer as the sender needs it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.notify.push.channel import Push, Target
from services.notify.push.egress import PushEgress
from services.notify.push.fcm import FcmChannel
from services.notify.push.keys import service_account
from services.notify.push.native import native_channels
from services.notify.push.push_urls import PushServices
from services.notify.settings import NotifySettings
from tests.support.fcm_service import LocalFcm, ServiceAccount, make_service_account, registration_token
from tests.support.push_pki import TestPki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def account() -> ServiceAccount:
    return make_service_account("shop-app")


@pytest.fixture
async def fcm(pki: TestPki, account: ServiceAccount) -> AsyncIterator[LocalFcm]:
    async with LocalFcm(pki, account) as service:
        yield service


def config(fcm: LocalFcm, pki: TestPki, key_file: Path, **changes: str) -> NotifySettings:
    values = {
        "fcm_service_account_file": str(key_file),
        "fcm_url": fcm.url,
        "push_ca_file": str(pki.ca_file),
        "push_timeout_s": 5.0,
        **changes,
    }
    return NotifySettings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def channel(fcm: LocalFcm, pki: TestPki, account: ServiceAccount, tmp_path: Path) -> AsyncIterator[FcmChannel]:
    """As notify makes it: from the settings, the stand-in's host listed in ACCUEIL_PUSH_HOSTS."""
    key_file = account.write(tmp_path / "service-account.json", fcm.token_uri)
    (made,) = native_channels(config(fcm, pki, key_file), PushServices.from_hosts([fcm.host]))
    assert isinstance(made, FcmChannel)
    yield made
    await made.close()


def push_to(token: str, message_id: int = 1, body: str = "Votre commande est prête") -> Push:
    return Push(
        message_id=message_id,
        purpose="pickup_updates",
        target=Target("fcm", token),
        title="Click & collect",
        body=body,
        locale="fr",
        topic=f"pickup-{message_id}",
        expires_at=datetime.now(UTC) + timedelta(minutes=30),
        urgency="high",
    )


async def test_a_push_is_delivered_as_fcm_expects_it(fcm: LocalFcm, channel: FcmChannel) -> None:
    token = registration_token()
    answer = await channel.send(push_to(token, message_id=42))
    assert (answer.label, answer.code) == ("accepted", 200)
    (sent,) = fcm.sends
    assert sent.status == 200 and sent.token == token
    message = sent.message
    assert message["notification"] == {"title": "Click & collect", "body": "Votre commande est prête"}
    assert message["data"] == {"message_id": "42", "purpose": "pickup_updates"}
    android = message["android"]
    assert (android["priority"], android["collapse_key"]) == ("high", "pickup-42")
    assert 1790 <= int(android["ttl"].removesuffix("s")) <= 1800
    assert sent.http_version == "2"


async def test_one_access_token_serves_a_hundred_concurrent_sends(fcm: LocalFcm, channel: FcmChannel) -> None:
    tokens = [registration_token() for _ in range(100)]
    answers = await asyncio.gather(*(channel.send(push_to(t, n)) for n, t in enumerate(tokens)))
    assert {a.label for a in answers} == {"accepted"}
    assert fcm.access_tokens_issued == 1 and channel.access_tokens.fetched == 1
    assert len({s.access_token for s in fcm.sends}) == 1
    assert channel.connections_made == 1  # the token endpoint and FCM share the stand-in's origin


async def test_a_refused_access_token_is_replaced_once_and_each_send_retried_once(
    fcm: LocalFcm, channel: FcmChannel
) -> None:
    assert (await channel.send(push_to(registration_token()))).label == "accepted"
    fcm.revoke_access_tokens()
    tokens = [registration_token() for _ in range(30)]
    answers = await asyncio.gather(*(channel.send(push_to(t, n)) for n, t in enumerate(tokens, 2)))
    assert {a.label for a in answers} == {"accepted"}
    assert fcm.access_tokens_issued == 2
    for token in tokens:
        assert [s.status for s in fcm.sends if s.token == token] in ([200], [401, 200])


async def test_an_access_token_is_renewed_before_it_expires(
    fcm: LocalFcm, pki: TestPki, account: ServiceAccount, tmp_path: Path
) -> None:
    fcm.access_token_lifetime_s = 600
    now = time.time()
    clock = [now - 301]  # the first token dated 301 s ago: the token endpoint takes no assertion from the future
    channel = FcmChannel(
        service_account(str(account.write(tmp_path / "sa.json", fcm.token_uri))),
        PushEgress(PushServices.from_hosts([fcm.host]), ca_file=str(pki.ca_file)),
        url=fcm.url,
        clock=lambda: clock[0],
    )
    try:
        assert (await channel.send(push_to(registration_token(), 1))).label == "accepted"
        clock[0] = now - 2  # 301 s of its 600 left: kept
        assert (await channel.send(push_to(registration_token(), 2))).label == "accepted"
        assert fcm.access_tokens_issued == 1
        clock[0] = now  # 299 s left, less than 5 minutes: renewed
        assert (await channel.send(push_to(registration_token(), 3))).label == "accepted"
        assert fcm.access_tokens_issued == 2
    finally:
        await channel.close()
    assert [s.status for s in fcm.sends] == [200, 200, 200]


async def test_an_uninstalled_app_and_a_token_fcm_calls_invalid_are_unregistered(
    fcm: LocalFcm, channel: FcmChannel
) -> None:
    gone, invalid = registration_token(), registration_token()
    fcm.unregister(gone)
    fcm.invalid_token(invalid)
    answer = await channel.send(push_to(gone))
    assert (answer.label, answer.code, answer.error) == ("unregistered", 404, "404 UNREGISTERED")
    answer = await channel.send(push_to(invalid))
    assert (answer.label, answer.code) == ("unregistered", 400)


async def test_quota_exceeded_and_a_failing_fcm_are_unavailable(fcm: LocalFcm, channel: FcmChannel) -> None:
    token = registration_token()
    fcm.fail(token, (429, "QUOTA_EXCEEDED", 2), (503, "UNAVAILABLE"), (500, "INTERNAL"))
    answer = await channel.send(push_to(token))
    assert (answer.label, answer.code, answer.retry_after, answer.error) == (
        "unavailable",
        429,
        "2",
        "429 QUOTA_EXCEEDED",
    )
    for status in (503, 500):
        answer = await channel.send(push_to(token))
        assert (answer.label, answer.code) == ("unavailable", status)
    assert (await channel.send(push_to(token))).label == "accepted"
    assert len([s for s in fcm.sends if s.status == 200]) == 1


async def test_a_sender_id_mismatch_is_rejected(fcm: LocalFcm, channel: FcmChannel) -> None:
    token = registration_token()
    fcm.fail(token, (403, "SENDER_ID_MISMATCH"))
    answer = await channel.send(push_to(token))
    assert (answer.label, answer.error) == ("rejected", "403 SENDER_ID_MISMATCH")


async def test_a_token_endpoint_refusing_the_key_leaves_the_message_to_retry(
    fcm: LocalFcm, pki: TestPki, account: ServiceAccount, tmp_path: Path
) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    doc = account.info(fcm.token_uri) | {"private_key": pem}
    key_file = tmp_path / "wrong-key.json"
    key_file.write_text(json.dumps(doc))
    (channel,) = native_channels(config(fcm, pki, key_file), PushServices.from_hosts([fcm.host]))
    try:
        answer = await channel.send(push_to(registration_token()))
    finally:
        await channel.close()
    assert (answer.label, answer.error) == ("unavailable", "access token: token endpoint: 400 invalid_grant")
    assert fcm.sends == []  # FCM itself was never asked
    assert "PRIVATE KEY" not in repr(answer) and pem[40:80] not in repr(answer)


async def test_an_unreachable_token_endpoint_leaves_the_message_to_retry(
    fcm: LocalFcm, pki: TestPki, account: ServiceAccount, tmp_path: Path, unused_tcp_port: int
) -> None:
    key_file = account.write(tmp_path / "sa.json", f"https://localhost:{unused_tcp_port}/token")
    services = PushServices.from_hosts([fcm.host, f"localhost:{unused_tcp_port}"])
    (channel,) = native_channels(config(fcm, pki, key_file), services)
    try:
        answer = await channel.send(push_to(registration_token()))
    finally:
        await channel.close()
    assert answer.label == "unavailable" and "cannot connect" in (answer.error or "")


async def test_an_unreachable_fcm_is_no_answer(
    fcm: LocalFcm, pki: TestPki, account: ServiceAccount, tmp_path: Path, unused_tcp_port: int
) -> None:
    key_file = account.write(tmp_path / "sa.json", fcm.token_uri)
    settings = config(fcm, pki, key_file, fcm_url=f"https://localhost:{unused_tcp_port}")
    (channel,) = native_channels(settings, PushServices.from_hosts([fcm.host, f"localhost:{unused_tcp_port}"]))
    try:
        answer = await channel.send(push_to(registration_token()))
    finally:
        await channel.close()
    assert answer.label == "no_answer" and "cannot connect" in (answer.error or "")
    assert fcm.access_tokens_issued == 1


async def test_an_fcm_host_the_egress_rules_do_not_allow_is_refused(
    fcm: LocalFcm, pki: TestPki, account: ServiceAccount, tmp_path: Path
) -> None:
    key_file = account.write(tmp_path / "sa.json", fcm.token_uri)
    (channel,) = native_channels(config(fcm, pki, key_file), PushServices())  # localhost not listed
    try:
        answer = await channel.send(push_to(registration_token()))
    finally:
        await channel.close()
    assert answer.label == "refused" and "no public address" in (answer.error or "")
    assert fcm.access_tokens_issued == 0 and fcm.connections == 0
