"""notify's wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from shared.wire import Answer, Body, Id, Locale

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
    order_id: str | None = None
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


# What staff are called on every screen of the store: printable text (no control characters, which
# PostgreSQL or a page would choke on, and no direction overrides, which make one name read as
# another), with at least one letter or digit.
_PRINTABLE = r"[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
StaffName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=100,
        pattern=rf"^{_PRINTABLE}*[^\W_]{_PRINTABLE}*$",
        description="printable, with at least one letter or digit",
    ),
]


class StaffCreate(Body):
    name: StaffName
    locale: Locale = "en"
    """The language their alerts are written in (fr and en, else English)."""


class StaffCreated(Answer):
    staff_id: str
    token: str
    """The staff member's bearer token: it acts on their own store only. Sign in to /staff with it."""
    store_id: str
    name: str
    locale: str


class Staff(Answer):
    staff_id: str
    store_id: str
    name: str
    locale: str
    push: bool
    """Whether a device of theirs gets alerts by Web Push."""
    created_at: datetime


class StaffPushSubscription(Answer):
    staff_id: str
    endpoint: str
    created_at: datetime
    updated_at: datetime


class Alert(Answer):
    alert_id: int
    store_id: str
    trip_id: str
    kind: Literal["approaching", "arrived"]
    status: Literal["open", "acked", "closed"]
    """open: nobody has answered yet; acked: someone is on their way out; closed: the trip is over."""
    text: str
    """In the reader's language: "Camille (order 8F3K) is 4 min away — bay 2"."""
    at: datetime
    """When geo saw the shopper reach this step."""
    created_at: datetime
    order_id: str | None = None
    order_ref: str | None = None
    """What staff read out: the order id's last 4 characters, upper-cased."""
    display_name: str | None = None
    bay: str | None = None
    mode: str | None = None
    eta_s: int | None = None
    """Seconds to arrival when geo saw it (approaching)."""
    expected_at: datetime | None = None
    """`at` + `eta_s`: when the car should pull in, for a countdown."""
    distance_m: float | None = None
    acked_by: str | None = None
    acked_by_name: str | None = None
    acked_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: Literal["completed", "canceled", "expired"] | None = None


class AlertList(Answer):
    store_id: str
    alerts: list[Alert]


class StreamTicket(Answer):
    ticket: str
    """Opens the store's alert stream (`?ticket=`) until `expires_at`; good for nothing else."""
    expires_at: datetime
    url: str
