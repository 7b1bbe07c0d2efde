"""The wire format of pickup trips."""

from __future__ import annotations

from typing import Literal

import msgspec

from services.geo.devices.schemas import TripOut
from shared.wire import Answer, Body, Id


class TripCreate(Body):
    order_id: Id
    store_id: Id
    mode: Literal["car", "foot", "bike"] = "car"


class TripCreated(Answer):
    trip_id: str
    status: str


class TripList(Answer):
    store_id: str
    trips: list[TripOut]
    next_before: str | None = None
    """For ended trips (or `all`), when there are more: the `before` of the next page."""


class Order(msgspec.Struct):
    """inventory's answer to GET /v1/orders/{order_id}, as far as a trip needs it: the fields geo reads
    (the rest, and whatever the contract adds later, is ignored)."""

    device_id: str
    store_id: str
    status: str
    display_name: str | None = None
