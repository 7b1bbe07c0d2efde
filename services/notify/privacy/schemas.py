"""The privacy feature on the wire, and what it reads of geo's and inventory's answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from shared.events import AnyEvent
from shared.wire import Answer


class Erasure(Answer):
    erasure_id: str
    status: Literal["pending", "completed"]
    pending: list[str]
    """The services that have not confirmed yet."""
    requested_at: datetime
    completed_at: datetime | None
    status_url: str


class NotifyPart(Answer):
    """What notify itself holds about the device."""

    device: dict[str, Any]
    consents: dict[str, Any] | None
    consent_history: list[dict[str, Any]]
    push_subscription: dict[str, Any] | None
    """The push target: `provider` and its `endpoint` (Web Push, without its keys: they are secrets,
    not information) or device `token` (APNs, FCM)."""
    messages: list[dict[str, Any]]
    staff_alerts: list[dict[str, Any]]
    back_in_stock: list[dict[str, Any]]
    """The back-in-stock requests still kept, open or ended, with their proof."""
    journeys: list[dict[str, Any]] = []
    """The device's journey enrollments: which journey and arm, the step, when it entered and left."""


class Export(Answer):
    device_id: str
    exported_at: datetime
    notify: NotifyPart
    geo: Any
    """geo's part (GET /v1/devices/{device_id}/data); null if geo does not know the device."""
    inventory: Any
    """inventory's part (GET /v1/devices/{device_id}/orders); null if inventory does not know it."""
    events: list[AnyEvent]
    """The event log's events about the device, from every service, oldest first."""


class PrivacyNotice(Answer):
    purposes: dict[str, Any]
    collects: dict[str, Any]
    """Each service's part, null while that service cannot be reached."""
    rights: dict[str, str]
    never: Any


# --- what the export and the notice read of the peers' answers (the rest is ignored; what is relayed
# to the person is relayed whole) ---


class PeerOrderPage(msgspec.Struct):
    """inventory's GET /v1/devices/{device_id}/orders: one page of the shopper's orders."""

    orders: list[dict[str, Any]]
    """Relayed as inventory wrote them."""
    next_before: str | None = None


class PeerNotice(msgspec.Struct):
    """geo's or inventory's GET /v1/privacy."""

    collects: Any
    """That service's part of the notice, relayed as it wrote it."""
