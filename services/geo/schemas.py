"""geo's wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from shared.events import Event
from shared.wire import Answer, Body, Id, Lat, Lng, Name

ZoneKind = Literal["store", "pickup", "department", "approach"]
Timezone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]


class StorePut(Body):
    name: Name
    lat: Lat
    lng: Lng
    timezone: Timezone | None = None


class Store(Answer):
    store_id: str
    name: str
    lat: float
    lng: float
    timezone: str


class Circle(Body):
    lat: Lat
    lng: Lng
    radius_m: float


class ZonePut(Body):
    kind: ZoneKind
    circle: Circle | None = None
    polygon: dict[str, Any] | None = None
    dwell_s: Annotated[int, msgspec.Meta(ge=1, le=86_400)] | None = None
    name: Name | None = None


class ZoneOut(Answer):
    store_id: str
    zone_id: str
    kind: str
    circle: dict[str, float] | None = None
    polygon: dict[str, Any] | None = None
    dwell_s: int | None = None
    name: str | None = None


class PingIn(Body):
    lat: Lat
    lng: Lng
    accuracy_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)]
    ts: AwareTime
    speed_mps: Annotated[float, msgspec.Meta(ge=0, le=1_000)] | None = None
    heading: Annotated[float, msgspec.Meta(ge=0, le=360)] | None = None


class PingBatch(Body):
    pings: list[PingIn]


class Rejected(Answer):
    index: int
    reason: str


class IngestResult(Answer):
    accepted: int
    rejected: list[Rejected]
    events: list[Event]
    reason: str | None = None


class IBeacon(Body):
    uuid: Annotated[
        str, msgspec.Meta(pattern=r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
    ]
    major: Annotated[int, msgspec.Meta(ge=0, le=65535)]
    minor: Annotated[int, msgspec.Meta(ge=0, le=65535)]


class Eddystone(Body):
    namespace: Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Fa-f]{20}$", description="10-byte namespace, hex")]
    instance: Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Fa-f]{12}$", description="6-byte instance, hex")]


class BeaconPut(Body):
    zone_id: Id
    ibeacon: IBeacon | None = None
    eddystone: Eddystone | None = None


class BeaconOut(Answer):
    store_id: str
    beacon_id: str
    zone_id: str
    ibeacon: IBeacon | None = None
    eddystone: Eddystone | None = None


class SightingIn(Body):
    ts: AwareTime
    rssi: Annotated[int, msgspec.Meta(ge=-130, le=20)]
    ibeacon: IBeacon | None = None
    eddystone: Eddystone | None = None


class SightingBatch(Body):
    sightings: list[SightingIn]


class TripCreate(Body):
    order_id: Id
    store_id: Id
    mode: Literal["car", "foot", "bike"] = "car"


class TripCreated(Answer):
    trip_id: str
    status: str


class TripOut(Answer):
    trip_id: str
    status: str
    store_id: str
    order_id: str
    mode: str
    started_at: datetime
    display_name: str | None = None
    eta_s: int | None = None
    distance_m: float | None = None
    approaching_at: datetime | None = None
    arrived_at: datetime | None = None
    ended_at: datetime | None = None


class TripList(Answer):
    store_id: str
    trips: list[TripOut]


class ZoneHere(Answer):
    store_id: str
    zone_id: str
    kind: str
    entered_at: datetime
    dwell_so_far_s: int
    via: str
    name: str | None = None


class DeviceContext(Answer):
    device_id: str
    stores: list[str]
    zones: list[ZoneHere]
    last_fix_at: datetime | None = None
    active_trip: TripOut | None = None
