"""Staff and their pickup alerts on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from shared.wire import Answer, Body, Locale

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
    expires_at: datetime
    """The token lasts a shift: renew it before then with POST /v1/staff/{staff_id}/token."""
    store_id: str
    name: str
    locale: str


class StaffToken(Answer):
    staff_id: str
    token: str
    expires_at: datetime


class Staff(Answer):
    staff_id: str
    store_id: str
    name: str
    locale: str
    push: bool
    """Whether a device of theirs gets alerts by Web Push."""
    created_at: datetime


class StaffList(Answer):
    store_id: str
    staff: list[Staff]
    next_after: str | None
    """The next page's `after`, when there may be more."""


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


class StaffPushSubscription(Answer):
    staff_id: str
    endpoint: str
    created_at: datetime
    updated_at: datetime
