"""FCM HTTP v1: the access token's grant, what a push sends, and what each answer means."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from services.notify.push.channel import Push, Target
from services.notify.push.fcm_protocol import (
    GRANT_TYPE,
    MAX_PAYLOAD,
    MAX_TTL_S,
    SCOPE,
    AccessToken,
    ServiceAccount,
    TokenRefused,
    access_token_of,
    answer_of,
    assertion,
    message,
    token_request,
)

ACCOUNT = ServiceAccount(
    project_id="shop-app",
    client_email="push@shop-app.iam.gserviceaccount.com",
    private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    private_key_id="k1",
    token_uri="https://oauth2.googleapis.com/token",
)
NOW = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)
DEVICE = "fcm-registration-token:APA91b"


WHY = "Vous avez accepté d’être tenu au courant de vos retraits de commande."


def push_of(
    body: str = "Compost en stock ici", expires_at: datetime = NOW + timedelta(minutes=30), why: str | None = WHY
) -> Push:
    return Push(
        message_id=7,
        purpose="pickup_updates",
        target=Target("fcm", DEVICE),
        title="Commande prête",
        body=body,
        locale="fr",
        topic="cGlja3VwLTc",
        expires_at=expires_at,
        urgency="high",
        why=why,
    )


def error(status: int, grpc: str, code: str | None = None, field: str | None = None) -> bytes:
    details: list[dict[str, object]] = []
    if code:
        details.append({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code})
    if field:
        details.append({"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": field}]})
    return json.dumps({"error": {"code": status, "message": "x", "status": grpc, "details": details}}).encode()


# -- answers


def test_200_is_accepted() -> None:
    assert answer_of(200, b'{"name":"projects/shop-app/messages/1"}', None).label == "accepted"


def test_an_unregistered_token_is_unregistered() -> None:
    answer = answer_of(404, error(404, "NOT_FOUND", "UNREGISTERED"), None)
    assert (answer.label, answer.error) == ("unregistered", "404 UNREGISTERED")


def test_an_invalid_argument_naming_the_token_is_unregistered_any_other_is_rejected() -> None:
    assert answer_of(400, error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "message.token"), None).label == (
        "unregistered"
    )
    assert answer_of(400, error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "message.android.ttl"), None).label == (
        "rejected"
    )
    assert answer_of(400, error(400, "INVALID_ARGUMENT"), None).label == "rejected"


def test_quota_exceeded_is_unavailable_no_sooner_than_retry_after() -> None:
    answer = answer_of(429, error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), "2")
    assert (answer.label, answer.retry_after, answer.error) == ("unavailable", "2", "429 QUOTA_EXCEEDED")


@pytest.mark.parametrize(("status", "grpc"), [(500, "INTERNAL"), (503, "UNAVAILABLE")])
def test_server_errors_are_unavailable(status: int, grpc: str) -> None:
    assert answer_of(status, error(status, grpc, grpc), None).label == "unavailable"
    assert answer_of(status, b"", None).label == "unavailable"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH")),
        (401, error(401, "UNAUTHENTICATED")),  # what remains after the one retry with a new token
        (404, error(404, "NOT_FOUND")),  # a project that does not exist, not a token
        (400, b"not json"),
    ],
)
def test_other_client_errors_are_rejections(status: int, body: bytes) -> None:
    assert answer_of(status, body, None).label == "rejected"


# -- the message


def test_the_message_is_the_notification_string_data_and_android_options() -> None:
    doc = json.loads(message(push_of(), NOW))
    assert doc == {
        "message": {
            "token": DEVICE,
            "notification": {"title": "Commande prête", "body": "Compost en stock ici"},
            "data": {"message_id": "7", "purpose": "pickup_updates", "why": WHY},
            "android": {"priority": "high", "ttl": "1800s", "collapse_key": "cGlja3VwLTc"},
        }
    }
    assert json.loads(message(push_of(), NOW, url="https://shop.example/o/7"))["message"]["data"]["url"] == (
        "https://shop.example/o/7"
    )


def test_ttl_is_at_least_a_second_and_at_most_four_weeks() -> None:
    assert json.loads(message(push_of(expires_at=NOW), NOW))["message"]["android"]["ttl"] == "1s"
    far = push_of(expires_at=NOW + timedelta(days=90))
    assert json.loads(message(far, NOW))["message"]["android"]["ttl"] == f"{MAX_TTL_S}s"


@given(st.text(max_size=8000), st.text(max_size=5000))
def test_the_message_never_passes_4096_bytes_and_cuts_the_why_before_the_body(body: str, why: str) -> None:
    data = message(push_of(body=body, why=why), NOW)
    assert len(data) <= MAX_PAYLOAD
    doc = json.loads(data)["message"]
    shown = doc["notification"]["body"]
    assert shown == body or body.startswith(shown.removesuffix("…"))
    said = doc["data"].get("why", "")
    assert said == why or why.startswith(said.removesuffix("…"))
    if shown != body:
        assert "why" not in doc["data"]  # the body is cut only once the why is gone


# -- the access token


def test_the_assertion_is_rs256_from_the_service_account_for_the_messaging_scope() -> None:
    now = NOW.timestamp()
    signed = assertion(ACCOUNT, now)
    assert jwt.get_unverified_header(signed)["kid"] == "k1"
    claims = jwt.decode(
        signed,
        ACCOUNT.private_key.public_key(),
        algorithms=["RS256"],
        audience=ACCOUNT.token_uri,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims == {
        "iss": ACCOUNT.client_email,
        "scope": SCOPE,
        "aud": ACCOUNT.token_uri,
        "iat": int(now),
        "exp": int(now) + 3600,
    }
    form = parse_qs(token_request(signed).decode())
    assert form == {"grant_type": [GRANT_TYPE], "assertion": [signed]}


def test_the_token_endpoints_answer_gives_the_token_and_its_lifetime() -> None:
    token, lifetime = access_token_of(200, b'{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}', 100.0)
    assert (token, lifetime) == (AccessToken("ya29.x", 3699.0), 3599.0)


def test_a_refusal_from_the_token_endpoint_names_its_code_and_nothing_else() -> None:
    with pytest.raises(TokenRefused, match=r"^token endpoint: 400 invalid_grant$"):
        access_token_of(400, b'{"error":"invalid_grant","error_description":"Invalid JWT Signature."}', 0.0)
    with pytest.raises(TokenRefused, match="no access_token"):
        access_token_of(200, b'{"expires_in":3599}', 0.0)
    with pytest.raises(TokenRefused, match=r"^token endpoint: 502$"):
        access_token_of(502, b"<html>", 0.0)


def test_a_token_is_renewed_five_minutes_before_it_expires_or_halfway_through_a_short_life() -> None:
    hour = AccessToken("t", 3600.0)
    assert hour.fresh_at(3600 - 301, 3600) and not hour.fresh_at(3600 - 300, 3600)
    short = AccessToken("t", 120.0)
    assert short.fresh_at(59, 120) and not short.fresh_at(60, 120)


def test_the_key_never_shows_in_a_repr() -> None:
    assert "private_key" not in repr(ACCOUNT) and "PRIVATE" not in repr(ACCOUNT)
