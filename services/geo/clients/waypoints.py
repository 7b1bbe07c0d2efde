"""The store zones near a device, as OwnTracks waypoints (circular regions the app watches itself). Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import msgspec

from services.geo.zones.zone_index import Zone
from shared.geodesy import distance_m
from shared.wire import Answer

NEAR_M = 5_000.0
KINDS = ("store", "pickup")


class Waypoint(Answer, omit_defaults=False):  # `_type` is always said
    desc: str
    lat: float
    lon: float
    rad: int
    tst: int
    type: str = msgspec.field(default="waypoint", name="_type")


class Waypoints(Answer, omit_defaults=False):
    waypoints: list[Waypoint]
    type: str = msgspec.field(default="waypoints", name="_type")


class SetWaypoints(Answer, omit_defaults=False):
    waypoints: Waypoints
    action: str = "setWaypoints"
    type: str = msgspec.field(default="cmd", name="_type")


def enclosing_circle(zone: Zone) -> tuple[float, float, float]:
    """(lat, lng, radius m): a circle as it is, a polygon as its centroid and farthest vertex."""
    shape = zone.shape
    if shape.center is not None and shape.radius_m is not None:
        return shape.center[0], shape.center[1], shape.radius_m
    centroid = shape.polygon.centroid
    lat, lng = centroid.y, centroid.x
    radius = max(distance_m(lat, lng, y, x) for x, y in shape.polygon.exterior.coords)
    return lat, lng, radius


def region_id(zone: Zone) -> int:
    """The app keys its regions by `tst`: the same zone keeps the same one whenever it is sent."""
    digest = hashlib.sha256(f"{zone.store_id}/{zone.zone_id}".encode()).digest()
    return 1_000_000_000 + int.from_bytes(digest[:4]) % 1_000_000_000


def nearby(zones: Iterable[Zone], lat: float, lng: float, within_m: float = NEAR_M) -> list[Waypoint]:
    """Store and pickup zones whose centre is within `within_m` of the point, in a stable order."""
    found = []
    for zone in zones:
        if zone.kind not in KINDS:
            continue
        z_lat, z_lng, radius = enclosing_circle(zone)
        if distance_m(lat, lng, z_lat, z_lng) <= within_m:
            desc = zone.name or f"{zone.store_id} {zone.zone_id}"
            found.append(
                Waypoint(desc=desc, lat=round(z_lat, 6), lon=round(z_lng, 6), rad=round(radius), tst=region_id(zone))
            )
    return sorted(found, key=lambda w: w.tst)


def digest(waypoints: list[Waypoint]) -> bytes:
    """The same for the same set: what the device was last sent is remembered as this."""
    return hashlib.sha256(msgspec.json.encode(waypoints)).digest()


def command(waypoints: list[Waypoint]) -> SetWaypoints:
    return SetWaypoints(waypoints=Waypoints(waypoints=waypoints))
