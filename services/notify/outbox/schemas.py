"""The outbox on the wire: the message log, push subscriptions, the VAPID public key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from shared.wire import Answer, Body


class Why(Answer):
    """A message's why, in French and in English."""

    fr: str
    en: str


class Message(Answer):
    id: int
    event_id: int
    purpose: str
    status: str
    """held (quiet hours, until send_after) | pending | sending | sent | failed | suppressed"""
    decided_at: datetime
    reason: str | None = None
    campaign_id: str | None = None
    request_id: int | None = None
    """The back-in-stock request it answers."""
    journey_id: str | None = None
    step: str | None = None
    """The journey step that decided it."""
    store_id: str | None = None
    zone_id: str | None = None
    sku: str | None = None
    order_id: str | None = None
    locale: str | None = None
    title: str | None = None
    body: str | None = None
    why: Why | None = None
    """What led to it, in plain words: where the device was (zone and store), which consent, what was in
    stock or which alternative replaced what, which campaign or journey step, and how caps and quiet
    hours let it through. None for a suppressed message."""
    send_after: datetime | None = None
    sent_at: datetime | None = None
    attempts: int = 0


class MessageList(Answer):
    device_id: str
    messages: list[Message]


class PushKeys(Body):
    p256dh: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    auth: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class PushSubscriptionPut(Body):
    """A W3C PushSubscription as `subscription.toJSON()` gives it (expirationTime is not used)."""

    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
    keys: PushKeys


class PushSubscription(Answer):
    device_id: str
    endpoint: str
    created_at: datetime
    updated_at: datetime


APNS_TOKEN = r"^[0-9A-Fa-f]{64,200}$"
"""An APNs device token as the app gets it, in hex: 32 bytes today, and Apple warns it may grow."""
FCM_TOKEN = r"^[A-Za-z0-9_:.\-]{20,4096}$"
"""An FCM registration token: base64url-like text with `:` separators, about 160 characters today."""


class PushTokenPut(Body):
    """A native app's device token for APNs or FCM."""

    provider: Literal["apns", "fcm"]
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
    environment: Literal["production", "sandbox"] | None = None
    """APNs only: which APNs the token belongs to (a development build's tokens are `sandbox`).
    Absent: `production`."""


class PushToken(Answer):
    provider: str
    updated_at: datetime
    environment: str | None = None


class VapidPublicKey(Answer):
    public_key: str
    """base64url of the uncompressed P-256 point: the `applicationServerKey` of PushManager.subscribe()."""


class MessageEventPost(Body):
    """What the shopper's service worker saw become of a pushed message."""

    type: Literal["shown", "clicked", "dismissed"]
    ts: Annotated[datetime, msgspec.Meta(tz=True)]


class MessageEvent(Answer):
    message_id: int
    type: str
    ts: datetime
    """when it happened, as first reported"""
    counted: bool
    """false: this type was already reported for this message, nothing new is counted"""
