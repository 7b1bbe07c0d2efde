"""What goes into the message log: one decided message for one recipient, a shopper's device or a
staff member, whatever decided it (an offer, a pickup update, a staff alert, a back-in-stock answer).
Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.notify.outbox.kinds import DeliveryKind
from services.notify.policy.decide import Status

RecipientKind = Literal["device", "staff"]


@dataclass(frozen=True)
class Addressee:
    """Who a message or a push subscription belongs to."""

    kind: RecipientKind
    id: str

    @property
    def field(self) -> str:
        """The id's name in the API, for errors."""
        return "device_id" if self.kind == "device" else "staff_id"


@dataclass(frozen=True, kw_only=True)
class Outgoing:
    """A decision about one recipient, as the log keeps it. `pending` is due at once and worth sending
    for its kind's TTL; `held` waits for `send_after`; `suppressed` is never sent (`reason` says why)."""

    to: Addressee
    event_id: int
    kind: DeliveryKind
    """Its purpose, and how long it is worth sending once due."""
    status: Status
    topic: str
    campaign_id: str = ""
    reason: str | None = None
    store_id: str | None = None
    zone_id: str | None = None
    sku: str | None = None
    order_id: str | None = None
    locale: str | None = None
    title: str | None = None
    body: str | None = None
    send_after: datetime | None = None
    request_id: int | None = None
    """The back-in-stock request the message answers."""
    journey_id: str | None = None
    journey_step: str | None = None
    enrollment_id: int | None = None
    """A journey's message: decided once per enrollment and step."""
    why: dict[str, str] | None = None
    """What led to it, in plain words by locale (policy/why.py): shown in the shopper's message log
    and carried by the push in the message's language. None for a suppressed message."""
