"""What every push channel (Web Push, APNs, FCM) is given and answers. Pure.

The outbox's sender claims a message, hands it to the channel of its recipient's target as a `Push`,
and settles it by the channel's `Answer`: the channel speaks its protocol (signing, encryption, the
token it renews, the one retry its protocol prescribes after a stale credential), the sender owns the
message's life (retries later with backoff, failure, removing a dead target).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Provider = Literal["webpush", "apns", "fcm"]
NATIVE: tuple[Provider, ...] = ("apns", "fcm")
"""The providers a native app registers a device token with."""
Urgency = Literal["very-low", "low", "normal", "high"]
"""RFC 8030 Urgency: how soon the push service should wake the device for it."""

AnswerLabel = Literal["accepted", "gone", "unregistered", "unavailable", "rejected", "refused", "no_answer"]
"""What one request came to:
- accepted: the push service took the message;
- gone: a Web Push subscription that no longer exists (404/410);
- unregistered: a native token the push service no longer knows (APNs 410/400 token errors,
  FCM UNREGISTERED);
- unavailable: try again later (408, 429, 5xx), no sooner than `retry_after`;
- rejected: the push service refused this message for good;
- refused: our own egress rules stopped the request (a host not allowed, or not public);
- no_answer: the connection failed or timed out: the push service may or may not have it."""


@dataclass(frozen=True)
class Target:
    """Where a recipient's messages go: one per recipient."""

    provider: Provider
    address: str
    """The Web Push endpoint URL, or the APNs / FCM device token."""
    p256dh: str | None = None
    auth: str | None = None
    """Web Push only: the subscription's keys."""
    environment: Literal["production", "sandbox"] | None = None
    """APNs only."""


@dataclass(frozen=True)
class Push:
    """One message on its way, as a channel needs it. The same message retried is the same Push,
    so its collapse id (`topic`) and id never change across retries and crash resends."""

    message_id: int
    purpose: str
    target: Target
    title: str
    body: str
    locale: str | None
    topic: str
    """The collapse key: Web Push Topic, `apns-collapse-id`, FCM `collapse_key` (≤ 32 characters)."""
    expires_at: datetime
    """When the message stops being useful: Web Push TTL, `apns-expiration`, FCM `ttl`."""
    urgency: Urgency
    store_id: str | None = None
    sku: str | None = None
    order_id: str | None = None
    why: str | None = None
    """Why the message came, in its own language (the message log keeps it in every language)."""


@dataclass(frozen=True)
class Answer:
    label: AnswerLabel
    code: int | None = None
    """The HTTP status, when there was one."""
    retry_after: str | None = None
    """The Retry-After header as sent (seconds or an HTTP date)."""
    error: str | None = None
    """What went wrong, for the attempts log: never a credential."""
    gone_since: datetime | None = None
    """APNs' 410 `timestamp`: when the token stopped being valid. A token set again after it is kept."""


class Channel(Protocol):
    """One push protocol, one instance per process: it keeps its connections and credentials warm."""

    provider: Provider

    def origin(self, target: Target) -> str:
        """The push service's origin a push to `target` goes to, for the attempts log."""
        ...

    def refusal(self, target: Target) -> str | None:
        """Why a push to `target` may not be attempted at all (egress rules), or None."""
        ...

    async def send(self, push: Push) -> Answer:
        """Deliver one push. Never raises for the push service's answers or network failures: they
        become an Answer. At most one request more than the first, when the protocol says so (a stale
        APNs provider JWT, an FCM access token refused with 401)."""
        ...

    async def close(self) -> None: ...
