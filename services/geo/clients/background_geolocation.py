"""The HTTP sync format of the common background-geolocation SDKs (Transistor's, and Traccar Client's
JSON): `{"location": {...}}`, or a list of them with batch sync on. Pure."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.geo.devices.schemas import AwareTime, PingIn
from shared.wire import Body, Lat, Lng


class Coords(Body):
    latitude: Lat
    longitude: Lng
    accuracy: Annotated[float, msgspec.Meta(ge=0, le=100_000)]
    speed: float | None = None  # m/s, -1 when unknown
    heading: float | None = None  # degrees, -1 when unknown


class Activity(Body):
    type: str | None = None


class SdkLocation(Body):
    timestamp: AwareTime
    coords: Coords
    is_moving: bool | None = None
    activity: Activity | None = None


class SdkSync(Body):
    location: SdkLocation | list[SdkLocation]


def locations_of(sync: SdkSync) -> list[SdkLocation]:
    return sync.location if isinstance(sync.location, list) else [sync.location]


def _known(value: float | None, top: float) -> float | None:
    return value if value is not None and 0 <= value <= top else None


def says_still(location: SdkLocation) -> bool:
    """The phone's motion detector says it is not moving."""
    return location.is_moving is False or (location.activity is not None and location.activity.type == "still")


def ping_of(location: SdkLocation) -> PingIn:
    """One of our pings. A phone that says it is still is at speed 0 when it gives none: presence uses
    speed to tell a stop from a car passing through."""
    c = location.coords
    speed = _known(c.speed, 1_000)
    if speed is None and says_still(location):
        speed = 0.0
    return PingIn(
        lat=c.latitude,
        lng=c.longitude,
        accuracy_m=c.accuracy,
        ts=location.timestamp,
        speed_mps=speed,
        heading=_known(c.heading, 360),
    )
