"""The OwnTracks app in HTTP mode: one JSON message per request, read for the fields we use. Pure.

A `location` and a `transition` are real positions (fixes); an iOS `beacon` is an iBeacon sighting.
Every other message type (card, cmd, lwt, steps, status, waypoints, encrypted...) means nothing here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec

from services.geo.clients.decoding import decode
from services.geo.devices.schemas import PingIn, SightingIn
from services.geo.zones.schemas import IBeacon
from shared.wire import END, Lat, Lng

IBEACON_UUID = rf"^[0-9A-Fa-f]{{8}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{4}}-[0-9A-Fa-f]{{12}}{END}"
Epoch = Annotated[int, msgspec.Meta(ge=0, le=10**11)]
Accuracy = Annotated[float, msgspec.Meta(ge=0, le=100_000)]
KMH_TO_MPS = 1 / 3.6


class _Envelope(msgspec.Struct):
    type: str | None = msgspec.field(default=None, name="_type")


class Location(msgspec.Struct):
    lat: Lat
    lon: Lng
    acc: Accuracy  # the app always sends it with a GPS fix: a position of unknown error is no evidence
    tst: Epoch
    vel: float | None = None  # km/h
    cog: float | None = None  # degrees


class Transition(msgspec.Struct):
    lat: Lat
    lon: Lng
    acc: Accuracy
    tst: Epoch
    event: str | None = None


class Beacon(msgspec.Struct):
    """Checked as an iBeacon sighting posted to /v1/beacon-sightings would be."""

    uuid: Annotated[str, msgspec.Meta(pattern=IBEACON_UUID)]
    major: Annotated[int, msgspec.Meta(ge=0, le=65535)]
    minor: Annotated[int, msgspec.Meta(ge=0, le=65535)]
    rssi: Annotated[int, msgspec.Meta(ge=-130, le=20)]
    tst: Epoch


Message = Location | Transition | Beacon
_TYPES: dict[str, type[Message]] = {"location": Location, "transition": Transition, "beacon": Beacon}

MESSAGE_SCHEMA = {
    "description": "One OwnTracks message. Another `_type`, or none, is answered [] and ignored.",
    "type": "object",
    "properties": {"_type": {"type": ["string", "null"]}},
    "oneOf": [
        *(
            {"allOf": [{"$ref": kind}, {"properties": {"_type": {"const": name}}, "required": ["_type"]}]}
            for name, kind in _TYPES.items()
        ),
        {"properties": {"_type": {"not": {"enum": list(_TYPES)}}}},
    ],
}
"""What `parse` reads, for the OpenAPI document (`{"$ref": <type>}` names the type's schema)."""


def parse(body: bytes) -> Message | None:
    """The message we act on, or None for an empty body or a type we ignore; 400/422 naming the field
    for a malformed one."""
    if not body.strip():
        return None  # the app sends an empty POST now and then
    kind = _TYPES.get(decode(body, _Envelope).type or "")
    return None if kind is None else decode(body, kind)


def _known(value: float | None, top: float) -> float | None:
    """The app reports an unknown speed or course as a negative number (or leaves it out)."""
    return value if value is not None and 0 <= value <= top else None


def when(tst: int) -> datetime:
    return datetime.fromtimestamp(tst, UTC)


def ping_of(message: Location | Transition) -> PingIn:
    """A position as one of our pings: epoch seconds as UTC, km/h as m/s, course as heading."""
    speed = _known(message.vel, 3_600) if isinstance(message, Location) else None
    heading = _known(message.cog, 360) if isinstance(message, Location) else None
    return PingIn(
        lat=message.lat,
        lng=message.lon,
        accuracy_m=message.acc,
        ts=when(message.tst),
        speed_mps=None if speed is None else speed * KMH_TO_MPS,
        heading=heading,
    )


def sighting_of(message: Beacon) -> SightingIn:
    return SightingIn(
        ts=when(message.tst),
        rssi=message.rssi,
        ibeacon=IBeacon(uuid=message.uuid, major=message.major, minor=message.minor),
    )
