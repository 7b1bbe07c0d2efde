"""How a decided message travels as a Web Push: headers, payload, and what each answer means. Pure.

The I/O around it is in sender.py; what differs by kind of message (its TTL, its urgency) is declared
by the feature that decides it (kinds.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from services.notify.outbox.push_urls import b64url_encode

MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 600.0
# JSON bytes before encryption: push services take 4096 bytes of encrypted body, and aes128gcm
# adds a 86-byte header, a 16-byte tag and a padding delimiter.
MAX_PAYLOAD = 3800
RETRYABLE = frozenset({408, 429})


def topic_of(*parts: str) -> str:
    """An RFC 8030 Topic (at most 32 base64url characters) naming what a message is about. The push
    service replaces a still-undelivered message with the same topic by the newer one: a re-send
    never queues twice, and a newer pickup status replaces an unread older one."""
    return b64url_encode(hashlib.sha256("\x1f".join(parts).encode()).digest())[:32]


def payload_of(doc: dict[str, Any]) -> bytes:
    """The JSON the device's service worker receives, its body shortened if needed to fit a push.
    The worker shows it with `tag` as the notification tag, so a copy that arrives twice replaces
    the first on the screen instead of showing twice."""
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    body = doc.get("body") or ""
    while len(data) > MAX_PAYLOAD and body:
        body = body[: max(0, len(body) - (len(data) - MAX_PAYLOAD) - 1)]
        data = json.dumps({**doc, "body": body + "…"}, ensure_ascii=False, separators=(",", ":")).encode()
    return data


def ttl_s(expires_at: datetime, now: datetime) -> int:
    return max(1, int((expires_at - now).total_seconds()))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now: delay-seconds or an HTTP date (RFC 9110); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def retry_delay(attempts: int, retry_after: str | None, now: datetime) -> float:
    """Exponential backoff (1 s, 2 s, 4 s... capped), and never sooner than the push service asked."""
    delay = min(BACKOFF_BASE_S * 2.0 ** max(0, attempts - 1), BACKOFF_CAP_S)
    asked = parse_retry_after(retry_after, now)
    return delay if asked is None else max(delay, asked)


def attempt_label(code: int | None) -> str:
    """What one request came to, for the attempts log."""
    if code is None:
        return "no_answer"
    if 200 <= code < 300:
        return "accepted"
    if code in (404, 410):
        return "gone"
    if code in RETRYABLE or code >= 500:
        return "unavailable"
    return "rejected"


@dataclass(frozen=True)
class Outcome:
    status: str  # the message's next status: sent | pending (retry) | failed
    reason: str | None = None
    next_attempt_at: datetime | None = None
    drop_subscription: bool = False


def outcome_of(label: str, retry_after: str | None, attempts: int, now: datetime, expires_at: datetime) -> Outcome:
    """What to do after an attempt that came to `label` (see attempt_label; `refused`: our own guard
    stopped a redirect towards a host that is not an allowed push service).

    Without an answer the push service may or may not have the message; trying again is safe because
    the retry carries the same Topic (it replaces a queued copy) and the same tag (it replaces a shown one).
    """
    if label == "accepted":
        return Outcome("sent")
    if label == "gone":
        return Outcome("failed", "subscription_gone", drop_subscription=True)
    if label == "refused":
        return Outcome("failed", "endpoint_not_allowed")
    if label == "rejected":
        return Outcome("failed", "push_rejected")
    if attempts >= MAX_ATTEMPTS:
        return Outcome("failed", "retries_exhausted")
    at = now + timedelta(seconds=retry_delay(attempts, retry_after, now))
    if at >= expires_at:
        return Outcome("failed", "expired")
    return Outcome("pending", next_attempt_at=at)
