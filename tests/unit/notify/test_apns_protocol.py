"""APNs: what a push sends (headers, payload), what each answer means, and how long a provider JWT lives."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from services.notify.push.apns_protocol import (
    MAX_PAYLOAD,
    RENEW_AFTER_S,
    ApnsKey,
    ProviderTokens,
    answer_of,
    device_path,
    headers,
    payload,
    reason_of,
)
from services.notify.push.channel import Push, Target

KEY = ApnsKey(ec.generate_private_key(ec.SECP256R1()), "ABC123DEFG", "TEAM123456")
EXPIRES = datetime(2026, 12, 6, 18, 30, tzinfo=UTC)
TOKEN = "a" * 64


WHY = "Vous étiez au magasin Rivoli. Vous avez accepté de recevoir des offres."


def push_of(
    title: str = "Au jardin", body: str = "Compost en stock ici", message_id: int = 42, why: str | None = WHY
) -> Push:
    return Push(
        message_id=message_id,
        purpose="offers",
        target=Target("apns", TOKEN, environment="production"),
        title=title,
        body=body,
        locale="fr",
        topic="Zm9vYmFyYmF6",
        expires_at=EXPIRES,
        urgency="normal",
        why=why,
    )


class Clock:
    def __init__(self, now: float = 1_765_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- answers


def test_200_is_accepted() -> None:
    assert answer_of(200, None, None, None).label == "accepted"


@pytest.mark.parametrize(
    ("status", "reason"),
    [(410, "Unregistered"), (410, "ExpiredToken"), (400, "BadDeviceToken"), (400, "DeviceTokenNotForTopic")],
)
def test_a_token_apns_no_longer_knows_is_unregistered(status: int, reason: str) -> None:
    answer = answer_of(status, reason, None, None)
    assert (answer.label, answer.code, answer.error) == ("unregistered", status, f"{status} {reason}")


def test_410_says_since_when_the_token_is_gone() -> None:
    gone = datetime(2026, 12, 1, 9, 15, 30, 250_000, tzinfo=UTC)
    millis = int(gone.timestamp() * 1000)
    assert answer_of(410, "Unregistered", millis, None).gone_since == gone
    assert answer_of(410, "Unregistered", None, None).gone_since is None


@pytest.mark.parametrize("status", [429, 500, 503])
def test_busy_or_failing_apns_is_unavailable_with_its_retry_after(status: int) -> None:
    answer = answer_of(status, "TooManyRequests" if status == 429 else "InternalServerError", None, "30")
    assert (answer.label, answer.retry_after) == ("unavailable", "30")


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "BadCollapseId"),
        (400, "PayloadEmpty"),
        (403, "InvalidProviderToken"),
        (403, "ExpiredProviderToken"),  # what remains of it after the one retry with a new JWT
        (413, "PayloadTooLarge"),
        (400, None),
    ],
)
def test_other_client_errors_are_rejections(status: int, reason: str | None) -> None:
    assert answer_of(status, reason, None, None).label == "rejected"


def test_the_error_body_is_read_leniently() -> None:
    assert reason_of(b'{"reason":"Unregistered","timestamp":1764580530250}') == ("Unregistered", 1764580530250)
    assert reason_of(b"") == (None, None)
    assert reason_of(b"<html>") == (None, None)
    assert reason_of(b'["x"]') == (None, None)
    assert reason_of(b'{"reason":5,"timestamp":"soon"}') == (None, None)


def test_an_absurd_timestamp_gives_no_moment_rather_than_an_error() -> None:
    assert answer_of(410, "Unregistered", 10**20, None).gone_since is None


# -- the request


def test_the_payload_is_the_alert_the_message_reference_and_why_it_came() -> None:
    doc = json.loads(payload(push_of()))
    assert doc == {
        "aps": {"alert": {"title": "Au jardin", "body": "Compost en stock ici"}},
        "accueil": {"message_id": 42, "purpose": "offers", "why": WHY},
    }
    assert "why" not in json.loads(payload(push_of(why=None)))["accueil"]
    assert json.loads(payload(push_of(), url="https://shop.example/o/42"))["accueil"]["url"] == (
        "https://shop.example/o/42"
    )


@given(st.text(min_size=0, max_size=3000), st.text(min_size=0, max_size=6000))
def test_the_payload_never_passes_4096_bytes_and_keeps_what_fits(title: str, body: str) -> None:
    data = payload(push_of(title=title, body=body))
    assert len(data) <= MAX_PAYLOAD
    alert = json.loads(data)["aps"]["alert"]
    if alert["body"] != body:
        assert alert["body"] == "" or alert["body"].endswith("…")
        assert body.startswith(alert["body"].removesuffix("…"))


def test_a_long_why_is_cut_before_the_body_is() -> None:
    data = payload(push_of(body="Compost " * 300, why="Parce que " * 400))
    doc = json.loads(data)
    assert doc["aps"]["alert"]["body"] == "Compost " * 300
    assert doc["accueil"]["why"].endswith("…") and len(data) <= MAX_PAYLOAD
    # Once the why is gone, the body is cut: the title stays whole.
    doc = json.loads(payload(push_of(body="Compost " * 600, why="Parce que " * 400)))
    assert "why" not in doc["accueil"] and doc["aps"]["alert"]["body"].endswith("…")
    assert doc["aps"]["alert"]["title"] == "Au jardin"


def test_a_long_body_is_cut_short_with_an_ellipsis() -> None:
    data = payload(push_of(body="é" * 5000))
    alert = json.loads(data)["aps"]["alert"]
    assert alert["body"].endswith("…") and len(alert["body"]) > 1500
    assert MAX_PAYLOAD - 8 <= len(data) <= MAX_PAYLOAD


def test_the_headers_say_who_what_how_urgent_until_when_and_which_message() -> None:
    sent = dict(headers(push_of(), "com.example.shop"))
    assert sent == {
        b"apns-topic": b"com.example.shop",
        b"apns-push-type": b"alert",
        b"apns-priority": b"10",
        b"apns-expiration": str(int(EXPIRES.timestamp())).encode(),
        b"apns-collapse-id": b"Zm9vYmFyYmF6",
    }


def test_a_retried_message_carries_the_same_collapse_id() -> None:
    assert headers(push_of(), "t") == headers(push_of(), "t")


def test_only_a_hexadecimal_token_enters_the_path() -> None:
    assert device_path("00fF" * 16) == "/3/device/" + "00fF" * 16
    for bad in ("", "../../3/device/x", "ab cd", "abc?x=1", "abc/def", "é", "00fF\n"):
        assert device_path(bad) is None


# -- the provider JWT


def test_the_jwt_is_es256_with_the_key_id_and_signed_by_the_team_key() -> None:
    clock = Clock()
    token = ProviderTokens(KEY, clock).current("production")
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "ABC123DEFG", "typ": "JWT"}
    claims = jwt.decode(token, KEY.private_key.public_key(), algorithms=["ES256"], options={"verify_iat": False})
    assert claims == {"iss": "TEAM123456", "iat": int(clock.now)}


def test_one_jwt_is_reused_for_50_minutes_then_renewed() -> None:
    clock = Clock()
    tokens = ProviderTokens(KEY, clock)
    first = tokens.current("production")
    for minutes in (1, 20, 49.9):
        clock.now += minutes * 60 - (clock.now - 1_765_000_000.0)
        assert tokens.current("production") == first
    clock.now = 1_765_000_000.0 + RENEW_AFTER_S
    second = tokens.current("production")
    assert second != first and tokens.signed == 2
    assert 20 * 60 <= RENEW_AFTER_S <= 55 * 60


def test_each_environment_has_its_own_jwt() -> None:
    tokens = ProviderTokens(KEY, Clock())
    production, sandbox = tokens.current("production"), tokens.current("sandbox")
    assert tokens.signed == 2
    assert tokens.current("production") == production and tokens.current("sandbox") == sandbox


def test_an_expired_jwt_is_renewed_once_however_many_requests_it_failed() -> None:
    clock = Clock()
    tokens = ProviderTokens(KEY, clock)
    stale = tokens.current("production")
    clock.now += 60  # a different iat, so a different JWT
    for _ in range(100):
        tokens.expired("production", stale)
    fresh = tokens.current("production")
    assert fresh != stale and tokens.signed == 2
    tokens.expired("production", stale)  # a late answer about the old one changes nothing
    assert tokens.current("production") == fresh and tokens.signed == 2


def test_a_clock_set_back_renews_rather_than_keeping_a_jwt_from_the_future() -> None:
    clock = Clock()
    tokens = ProviderTokens(KEY, clock)
    first = tokens.current("production")
    clock.now -= 3600
    assert tokens.current("production") != first


def test_the_key_never_shows_in_a_repr() -> None:
    assert "PRIVATE" not in repr(KEY) and "private_key" not in repr(KEY)
