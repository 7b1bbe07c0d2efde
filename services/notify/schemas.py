"""notify's wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from shared.wire import Answer, Body, Id, Locale

Purpose = Literal["location", "pickup_updates", "offers"]
PURPOSES: tuple[str, ...] = ("location", "pickup_updates", "offers")
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class DeviceCreate(Body):
    platform: Literal["web", "ios", "android"]
    locale: Locale
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class DeviceCreated(Answer):
    device_id: str
    token: str


class Purposes(Body):
    location: bool | None = None
    pickup_updates: bool | None = None
    offers: bool | None = None


class ConsentPut(Body):
    policy_version: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    purposes: Purposes
    shown: Annotated[str, msgspec.Meta(max_length=5_000)] | None = None
    """The text the person was shown when answering, kept as proof."""


class ConsentChange(Answer):
    at: datetime
    policy_version: str
    purposes: dict[str, bool]
    shown: str | None = None
    user_agent: str | None = None


class Consents(Answer):
    device_id: str
    purposes: dict[str, bool]
    policy_version: str | None = None
    updated_at: datetime | None = None
    history: list[ConsentChange] = []


class LocalizedMessage(Body):
    title: Text
    body: Text


class CampaignTrigger(Body):
    type: Literal["zone.entered", "zone.dwelled"]
    zone_kind: Literal["store", "pickup", "department", "approach"] | None = None
    zone_id: Id | None = None
    store_id: Id | None = None


class CampaignPut(Body):
    trigger: CampaignTrigger
    sku: Id
    message: dict[Locale, LocalizedMessage]
    active: bool = True


class Campaign(Answer):
    campaign_id: str
    trigger: CampaignTrigger
    sku: str
    message: dict[str, LocalizedMessage]
    active: bool


class Message(Answer):
    id: int
    event_id: int
    purpose: str
    status: str
    """held (quiet hours, until send_after) | pending | sending | sent | failed | suppressed"""
    decided_at: datetime
    reason: str | None = None
    campaign_id: str | None = None
    store_id: str | None = None
    zone_id: str | None = None
    sku: str | None = None
    locale: str | None = None
    title: str | None = None
    body: str | None = None
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


class VapidPublicKey(Answer):
    public_key: str
    """base64url of the uncompressed P-256 point: the `applicationServerKey` of PushManager.subscribe()."""
