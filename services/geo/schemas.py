"""geo's wire format."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from shared.events import Event
from shared.wire import Answer, Body, Lat, Lng, Name

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
