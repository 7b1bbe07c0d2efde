"""The event catalogue: every event the three services publish, one msgspec Struct per type.

An event is an envelope (`id`, `type`, `ts`, the ids it is about: as the event feed and the upload
answers show it) and a typed `data` payload. The types are joined in one tagged union (`AnyEvent`,
tagged by `type`): a producer builds a Struct, the bus stores it, a consumer or a client decodes the
same Struct back, so a payload has one shape and nobody reads `data.get("...")`.

Adding a type: a payload Struct, an event Struct with its `tag`, and its name in `AnyEvent`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

Purpose = Literal["location", "pickup_updates", "offers", "product_tips"]
PURPOSES: tuple[Purpose, ...] = ("location", "pickup_updates", "offers", "product_tips")
"""What a device consents to, each on its own (notify keeps the proof; geo and notify act on it)."""

ZoneKind = Literal["store", "pickup", "department", "approach"]
Via = Literal["gps", "beacon"]
TripMode = Literal["car", "foot", "bike"]
TripStatus = Literal["started", "approaching", "arrived", "completed", "canceled", "expired"]


class Payload(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of every `data`. A field without a default is always written (null when unknown); one with
    a default only when it says something (a trip's ETA while it is under way, a cancel's reason)."""


class Event(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type"):
    """The envelope. `id` is given by the bus when the event is published (0 before)."""

    id: int = 0
    ts: datetime
    device_id: str | None = None
    store_id: str | None = None
    zone_id: str | None = None
    trip_id: str | None = None
    order_id: str | None = None
    data: Payload
    """Each type narrows it to its own payload."""

    @property
    def type(self) -> str:
        return self.__struct_config__.tag  # type: ignore[return-value]


def type_of(cls: type[Event]) -> str:
    return cls.__struct_config__.tag  # type: ignore[return-value]


# --- geo: stores ---


class StoreData(Payload):
    name: str
    lat: float
    lng: float
    timezone: str
    """IANA name: the store's local time, e.g. for campaign hours."""


class StoreChanged(Event, tag="store.changed"):
    """A store was created or changed (envelope: store_id)."""

    data: StoreData


# --- geo: presence ---


class ZoneRef(msgspec.Struct, frozen=True):
    store_id: str
    zone_id: str


class ZoneEnteredData(Payload):
    kind: ZoneKind
    confidence: float
    """0..1: how sure the fixes are about a zone of this size (1.0 through a beacon)."""
    via: Via
    zones: list[ZoneRef]
    """Every zone the device is in after this event."""
    name: str | None = None
    """The zone's name, if it has one (what a message about the visit calls it); events stored before
    zones' names were published have none."""


class ZoneExitedData(Payload):
    kind: ZoneKind
    entered_at: datetime
    duration_s: int
    confidence: float
    via: Via
    zones: list[ZoneRef]
    reason: Literal["zone_deleted"] | None = None
    """Set when the visit ended because the zone itself was deleted."""


class ZoneDwelledData(Payload):
    kind: ZoneKind
    dwell_s: int
    confidence: float
    zones: list[ZoneRef]
    name: str | None = None
    """The zone's name, as for zone.entered."""


class LocationSuspiciousData(Payload):
    implied_speed_mps: int


class ZoneEntered(Event, tag="zone.entered"):
    data: ZoneEnteredData


class ZoneExited(Event, tag="zone.exited"):
    data: ZoneExitedData


class ZoneDwelled(Event, tag="zone.dwelled"):
    data: ZoneDwelledData


class LocationSuspicious(Event, tag="location.suspicious"):
    data: LocationSuspiciousData


# --- geo: pickup trips ---


class TripData(Payload):
    status: TripStatus
    mode: TripMode
    display_name: str | None
    """The name the shopper gave with the order, for staff (forgotten with the order's display name)."""
    bay: str | None
    """The pickup bay staff walk out to."""
    eta_s: int | None = None
    distance_m: float | None = None
    reason: str | None = None
    """Why a trip ended, when something else ended it (`order.collected`, `trip.cancel`...)."""


class TripApproaching(Event, tag="trip.approaching"):
    data: TripData


class TripArrived(Event, tag="trip.arrived"):
    data: TripData


class TripCompleted(Event, tag="trip.completed"):
    data: TripData


class TripCanceled(Event, tag="trip.canceled"):
    data: TripData


class TripExpired(Event, tag="trip.expired"):
    data: TripData


TRIP_EVENTS: dict[str, type[Event]] = {
    "approaching": TripApproaching,
    "arrived": TripArrived,
    "completed": TripCompleted,
    "canceled": TripCanceled,
    "expired": TripExpired,
}
"""The event a trip publishes on reaching each status (`started` has none: the answer says it)."""


# --- inventory ---


class StockData(Payload):
    sku: str
    before: int
    """Available units before the change."""
    after: int
    """Available units after it."""
    on_hand: int


class StockLowData(StockData):
    threshold: int


class StockChanged(Event, tag="stock.changed"):
    data: StockData


class StockBackInStock(Event, tag="stock.back_in_stock"):
    data: StockData


class StockLow(Event, tag="stock.low"):
    data: StockLowData


class ProductData(Payload):
    sku: str
    name: str
    category: str
    names: dict[str, str] = {}
    """The product's name by language, where given."""


class ProductChanged(Event, tag="product.changed"):
    data: ProductData


class OrderLine(msgspec.Struct, frozen=True):
    sku: str
    qty: int


class OrderData(Payload):
    lines: list[OrderLine]
    display_name: str | None
    reason: str | None = None
    """Why it was canceled, for `order.canceled`."""


class OrderReserved(Event, tag="order.reserved"):
    data: OrderData


class OrderReady(Event, tag="order.ready"):
    data: OrderData


class OrderCollected(Event, tag="order.collected"):
    data: OrderData


class OrderCanceled(Event, tag="order.canceled"):
    data: OrderData


# --- notify ---


class ConsentData(Payload):
    purposes: dict[Purpose, bool]
    """The device's answer for each purpose, after the change."""
    policy_version: str


class ConsentChanged(Event, tag="consent.changed"):
    data: ConsentData


class ErasureRequestedData(Payload):
    erasure_id: str


class ErasureRequested(Event, tag="erasure.requested"):
    data: ErasureRequestedData


# --- every service but notify ---


class ErasureConfirmedData(Payload):
    erasure_id: str
    service: str


class ErasureConfirmed(Event, tag="erasure.confirmed"):
    data: ErasureConfirmedData


# --- every service: the audit trail ---


class AuditData(Payload):
    actor: str
    """`admin` (the admin token) or the operator's email."""
    action: str
    """The call: method and concrete path, e.g. `PUT /v1/campaigns/welcome`."""
    before: Any
    """The resource as it was (null if new), secrets redacted (shared.audit)."""
    after: Any
    """The resource as it is now (null if deleted)."""


class AuditRecorded(Event, tag="audit.recorded"):
    """An operator or the admin token changed something (notify keeps the audit log)."""

    data: AuditData


AnyEvent = (
    StoreChanged
    | ZoneEntered
    | ZoneExited
    | ZoneDwelled
    | LocationSuspicious
    | TripApproaching
    | TripArrived
    | TripCompleted
    | TripCanceled
    | TripExpired
    | StockChanged
    | StockBackInStock
    | StockLow
    | ProductChanged
    | OrderReserved
    | OrderReady
    | OrderCollected
    | OrderCanceled
    | ConsentChanged
    | ErasureRequested
    | ErasureConfirmed
    | AuditRecorded
)
"""Every event, as it travels: on the bus, in the feed, in answers."""

EVENT_TYPES: dict[str, type[Event]] = {type_of(cls): cls for cls in AnyEvent.__args__}
