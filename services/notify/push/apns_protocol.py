"""APNs with token-based authentication: the provider JWT, a push's request, and what an answer
means. Pure (the clock is given).

Apple's rules: one provider JWT (ES256, header `kid`, claims `iss` = team id and `iat`) reused for at
least 20 and at most 60 minutes (a new one more often gets 429 TooManyProviderTokenUpdates, an older
one 403 ExpiredProviderToken); a payload of at most 4096 bytes; `apns-collapse-id` at most 64 bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from hpack import NeverIndexedHeaderTuple

from services.notify.push.channel import Answer, Push
from services.notify.push.payload import fitted

Environment = Literal["production", "sandbox"]
Header = tuple[bytes, bytes]

MAX_PAYLOAD = 4096
RENEW_AFTER_S = 50 * 60
"""A provider JWT is used for 50 minutes: well past Apple's 20-minute floor, safely before its hour."""
DEVICE_TOKEN = re.compile(r"^[0-9A-Fa-f]{1,512}$")
GONE_REASONS = frozenset({"Unregistered", "ExpiredToken", "BadDeviceToken", "DeviceTokenNotForTopic"})
STALE_PROVIDER_TOKEN = "ExpiredProviderToken"


@dataclass(frozen=True)
class ApnsKey:
    """The team's signing key (a `.p8` file), its key id, and the team id."""

    private_key: ec.EllipticCurvePrivateKey
    key_id: str
    team_id: str

    def __repr__(self) -> str:  # never the key, whatever prints this
        return f"ApnsKey(key_id={self.key_id!r}, team_id={self.team_id!r})"


@dataclass(frozen=True)
class _Token:
    jwt: str
    issued_at: float


class ProviderTokens:
    """One provider JWT per APNs environment, signed when first needed, renewed after RENEW_AFTER_S
    or when APNs calls it expired, and never twice for one stale token, however many requests it
    failed at once."""

    def __init__(self, key: ApnsKey, clock: Callable[[], float]) -> None:
        self._key = key
        self._clock = clock
        self._tokens: dict[Environment, _Token] = {}
        self.signed = 0

    def current(self, environment: Environment) -> str:
        token = self._tokens.get(environment)
        now = self._clock()
        if token is None or now - token.issued_at >= RENEW_AFTER_S or now < token.issued_at:
            token = self._sign(environment, now)
        return token.jwt

    def expired(self, environment: Environment, stale: str) -> None:
        """APNs answered ExpiredProviderToken to a request carrying `stale`: the next `current` is a
        new JWT, unless another request already caused one."""
        token = self._tokens.get(environment)
        if token is not None and token.jwt == stale:
            del self._tokens[environment]

    def _sign(self, environment: Environment, now: float) -> _Token:
        key = self._key
        signed = jwt.encode(
            {"iss": key.team_id, "iat": int(now)}, key.private_key, algorithm="ES256", headers={"kid": key.key_id}
        )
        token = _Token(signed, now)
        self._tokens[environment] = token
        self.signed += 1
        return token


def payload(push: Push, url: str | None = None) -> bytes:
    """The notification's JSON, its texts shortened with "…" (payload.fitted) if the whole would pass
    4096 bytes. The app reads the message's why in the custom key, as `accueil.why`."""

    def render(title: str, body: str, why: str) -> dict[str, Any]:
        accueil: dict[str, Any] = {"message_id": push.message_id, "purpose": push.purpose}
        if url is not None:
            accueil["url"] = url
        if why:
            accueil["why"] = why
        return {"aps": {"alert": {"title": title, "body": body}}, "accueil": accueil}

    return fitted(render, push.title, push.body, push.why or "", MAX_PAYLOAD)


def headers(push: Push, topic: str) -> list[Header]:
    """The per-push headers (the authorization is the channel's). Those the same on every request go
    into HPACK's table (one byte each on the wire after the first); those of one message do not, so
    they never push the others out of it."""
    return [
        (b"apns-topic", topic.encode()),
        (b"apns-push-type", b"alert"),
        (b"apns-priority", b"10"),
        NeverIndexedHeaderTuple(b"apns-expiration", str(int(push.expires_at.timestamp())).encode()),
        NeverIndexedHeaderTuple(b"apns-collapse-id", push.topic.encode()),
    ]


def device_path(token: str) -> str | None:
    """`/3/device/<token>`, or None for a token that is not hex (nothing else may enter the path)."""
    return f"/3/device/{token}" if DEVICE_TOKEN.fullmatch(token) else None


def reason_of(body: bytes) -> tuple[str | None, int | None]:
    """APNs' error body: `{"reason": ..., "timestamp": <ms>}` (timestamp with 410 only)."""
    try:
        doc = json.loads(body) if body else {}
    except ValueError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    reason = doc.get("reason")
    timestamp = doc.get("timestamp")
    return (
        reason if isinstance(reason, str) else None,
        timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else None,
    )


def answer_of(status: int, reason: str | None, timestamp_ms: int | None, retry_after: str | None) -> Answer:
    """What one APNs answer means for the message and the device token."""
    error = f"{status} {reason}" if reason else None
    if status == 200:
        return Answer("accepted", 200)
    if status == 410 or (status == 400 and reason in GONE_REASONS):
        return Answer("unregistered", status, error=error, gone_since=_moment(timestamp_ms))
    if status == 429 or status >= 500:
        return Answer("unavailable", status, retry_after=retry_after, error=error)
    return Answer("rejected", status, error=error)


def _moment(timestamp_ms: int | None) -> datetime | None:
    if timestamp_ms is None:
        return None
    try:
        return datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
