"""The wire format of pickup trips."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from shared.wire import Answer, Body, Id


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
    next_before: str | None = None
    """For ended trips (or `all`), when there are more: the `before` of the next page."""
