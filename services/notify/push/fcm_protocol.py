"""FCM HTTP v1: the service account's access token (OAuth 2.0 JWT bearer grant, RFC 7523), a push's
request, and what an answer means. Pure (the time is given)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from services.notify.push.channel import Answer, Push
from services.notify.push.payload import fitted

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 3600
REFRESH_BEFORE_S = 300
"""An access token is renewed this long before it expires (or halfway through a shorter life), so a
request never goes out with one about to lapse."""
MAX_PAYLOAD = 4096
MAX_TTL_S = 28 * 86400
"""FCM keeps a message at most four weeks."""


@dataclass(frozen=True)
class ServiceAccount:
    """The parts of a service account's JSON key that sending needs."""

    project_id: str
    client_email: str
    private_key: rsa.RSAPrivateKey
    private_key_id: str | None
    token_uri: str

    def __repr__(self) -> str:  # never the key, whatever prints this
        return f"ServiceAccount(project_id={self.project_id!r}, client_email={self.client_email!r})"


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: float

    def fresh_at(self, now: float, lifetime_s: float) -> bool:
        return now < self.expires_at - min(REFRESH_BEFORE_S, lifetime_s / 2)


class TokenRefused(Exception):
    """The token endpoint gave no access token: its status and OAuth error code, never a secret."""


def assertion(account: ServiceAccount, now: float) -> str:
    """The signed JWT the token endpoint exchanges for an access token."""
    issued = int(now)
    claims = {
        "iss": account.client_email,
        "scope": SCOPE,
        "aud": account.token_uri,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME_S,
    }
    headers = {"kid": account.private_key_id} if account.private_key_id else None
    return jwt.encode(claims, account.private_key, algorithm="RS256", headers=headers)


def token_request(signed_assertion: str) -> bytes:
    return urlencode({"grant_type": GRANT_TYPE, "assertion": signed_assertion}).encode()


def access_token_of(status: int, body: bytes, now: float) -> tuple[AccessToken, float]:
    """The access token and its lifetime in seconds from the token endpoint's answer, or TokenRefused."""
    doc = _json(body)
    if status != 200:
        code = doc.get("error") if isinstance(doc.get("error"), str) else None
        raise TokenRefused(f"token endpoint: {status}" + (f" {code}" if code else ""))
    token, lifetime = doc.get("access_token"), doc.get("expires_in")
    if not isinstance(token, str) or not token:
        raise TokenRefused("token endpoint: no access_token in its answer")
    if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
        lifetime = ASSERTION_LIFETIME_S
    return AccessToken(token, now + lifetime), float(lifetime)


def ttl_of(expires_at: datetime, now: datetime) -> int:
    return min(MAX_TTL_S, max(1, int((expires_at - now).total_seconds())))


def message(push: Push, now: datetime, url: str | None = None) -> bytes:
    """The `messages:send` body; the notification's texts shortened with "…" (payload.fitted) if the
    whole would pass FCM's 4096 bytes. The app reads the message's why in the data, as `why`."""
    data = {"message_id": str(push.message_id), "purpose": push.purpose}
    if url is not None:
        data["url"] = url
    android = {"priority": "high", "ttl": f"{ttl_of(push.expires_at, now)}s", "collapse_key": push.topic}

    def render(title: str, body: str, why: str) -> dict[str, Any]:
        return {
            "message": {
                "token": push.target.address,
                "notification": {"title": title, "body": body},
                "data": {**data, "why": why} if why else data,
                "android": android,
            }
        }

    return fitted(render, push.title, push.body, push.why or "", MAX_PAYLOAD)


def error_of(body: bytes) -> tuple[str | None, bool]:
    """FCM's error code (UNREGISTERED, QUOTA_EXCEEDED...; the gRPC status when there is none) and
    whether a field violation names `message.token`."""
    error = _json(body).get("error")
    if not isinstance(error, dict):
        return None, False
    code = error.get("status") if isinstance(error.get("status"), str) else None
    names_token = False
    for detail in error.get("details") or ():
        if not isinstance(detail, dict):
            continue
        if str(detail.get("@type", "")).endswith("google.firebase.fcm.v1.FcmError") and isinstance(
            detail.get("errorCode"), str
        ):
            code = detail["errorCode"]
        for violation in detail.get("fieldViolations") or ():
            if isinstance(violation, dict) and violation.get("field") == "message.token":
                names_token = True
    return code, names_token


def answer_of(status: int, body: bytes, retry_after: str | None) -> Answer:
    """What one `messages:send` answer means for the message and the registration token."""
    if status == 200:
        return Answer("accepted", 200)
    code, names_token = error_of(body)
    error = f"{status} {code}" if code else f"{status}"
    if code == "UNREGISTERED" or (status == 400 and names_token):
        return Answer("unregistered", status, error=error)
    if status == 429 or status >= 500:
        return Answer("unavailable", status, retry_after=retry_after, error=error)
    return Answer("rejected", status, error=error)


def _json(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body) if body else {}
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}
