"""What each answer of a push service means for a message: sent, retried later, or failed. Pure.

The I/O around it is in sender.py, each protocol in its push channel (services/notify/push); what
differs by kind of message (its TTL, its urgency) is declared by the feature that decides it (kinds.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from services.notify.push.channel import AnswerLabel
from services.notify.push.push_urls import b64url_encode

MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 600.0


def topic_of(*parts: str) -> str:
    """An RFC 8030 Topic (at most 32 base64url characters) naming what a message is about. The push
    service replaces a still-undelivered message with the same topic by the newer one: a re-send
    never queues twice, and a newer pickup status replaces an unread older one."""
    return b64url_encode(hashlib.sha256("\x1f".join(parts).encode()).digest())[:32]


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


@dataclass(frozen=True)
class Outcome:
    status: str  # the message's next status: sent | pending (retry) | failed
    reason: str | None = None
    next_attempt_at: datetime | None = None
    drop_target: bool = False
    """The push service no longer knows the recipient's target: forget it."""


def outcome_of(
    label: AnswerLabel, retry_after: str | None, attempts: int, now: datetime, expires_at: datetime
) -> Outcome:
    """What to do after an attempt that came to `label` (push/channel.py says what each label means).

    Without an answer the push service may or may not have the message; trying again is safe because
    the retry carries the same collapse id (Web Push Topic, apns-collapse-id, FCM collapse_key: it
    replaces a queued copy) and the same notification tag (it replaces a shown one).
    """
    if label == "accepted":
        return Outcome("sent")
    if label == "gone":
        return Outcome("failed", "subscription_gone", drop_target=True)
    if label == "unregistered":
        return Outcome("failed", "unregistered", drop_target=True)
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
