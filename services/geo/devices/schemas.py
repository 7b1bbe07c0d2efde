"""The wire format of what phones send (pings, beacon sightings), of where a device is and of its trips."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.geo.zones.schemas import Eddystone, IBeacon
from shared.events import AnyEvent
from shared.wire import Answer, Body, Lat, Lng

AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]


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
    events: list[AnyEvent]
    reason: str | None = None


class SightingIn(Body):
    ts: AwareTime
    rssi: Annotated[int, msgspec.Meta(ge=-130, le=20)]
    ibeacon: IBeacon | None = None
    eddystone: Eddystone | None = None


class SightingBatch(Body):
    sightings: list[SightingIn]


class ZoneHere(Answer):
    store_id: str
    zone_id: str
    kind: str
    entered_at: datetime
    dwell_so_far_s: int
    via: str
    name: str | None = None


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


class DeviceContext(Answer):
    device_id: str
    stores: list[str]
    zones: list[ZoneHere]
    last_fix_at: datetime | None = None
    active_trip: TripOut | None = None
