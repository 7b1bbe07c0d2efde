"""The wire format of stores, zones and beacons."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from services.geo.zones.geometry import MAX_RADIUS_M
from shared.wire import END, Answer, Body, Id, Lat, Lng, Name, Timezone

ZoneKind = Literal["store", "pickup", "department", "approach"]


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


class StoreList(Answer):
    stores: list[Store]
    """by store_id, at most `limit`"""
    next_after: str | None = None
    """When there may be more: the `after` of the next page."""


class Circle(Body):
    lat: Lat
    lng: Lng
    radius_m: Annotated[float, msgspec.Meta(extra_json_schema={"exclusiveMinimum": 0, "maximum": MAX_RADIUS_M})]


_POSITION = {
    "type": "array",
    "minItems": 2,
    "prefixItems": [
        {"type": "number", "minimum": -180, "maximum": 180},
        {"type": "number", "minimum": -90, "maximum": 90},
    ],
}
GeoJsonPolygon = Annotated[
    dict[str, Any],
    msgspec.Meta(
        description="A GeoJSON Polygon: rings of [lng, lat], the first the outline, the others holes",
        extra_json_schema={
            "properties": {
                "type": {"const": "Polygon"},
                "coordinates": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "array", "minItems": 4, "items": _POSITION},
                },
            },
            "required": ["type", "coordinates"],
        },
    ),
]


class ZonePut(Body):
    kind: ZoneKind
    circle: Circle | None = None
    polygon: GeoJsonPolygon | None = None
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


class IBeacon(Body):
    uuid: Annotated[
        str,
        msgspec.Meta(
            pattern=rf"^[0-9A-Fa-f]{{8}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{12}}{END}"
        ),
    ]
    major: Annotated[int, msgspec.Meta(ge=0, le=65535)]
    minor: Annotated[int, msgspec.Meta(ge=0, le=65535)]


class Eddystone(Body):
    namespace: Annotated[str, msgspec.Meta(pattern=rf"^[0-9A-Fa-f]{{20}}{END}", description="10-byte namespace, hex")]
    instance: Annotated[str, msgspec.Meta(pattern=rf"^[0-9A-Fa-f]{{12}}{END}", description="6-byte instance, hex")]


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


class ZoneOccupancy(Answer):
    zone_id: str
    devices: int
    """devices in the zone now (open visits): a count, never who or where"""


class StoreOccupancy(Answer):
    store_id: str
    at: datetime
    zones: list[ZoneOccupancy]
    """every zone of the store, by zone_id, 0 included"""
