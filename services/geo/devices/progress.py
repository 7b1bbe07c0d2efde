"""Pickup trips: a shopper driving (or walking, or cycling) in to collect an order. Pure.

started -> approaching -> arrived, each once and in order (a shopper seen straight in the pickup bay
gets approaching then arrived, so staff never miss the first alert), then completed, canceled or
expired.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.geo.devices.presence import Fix
from shared.geodesy import distance_m

ACTIVE = ("started", "approaching", "arrived")  # what the database's geo.trip_is_active(status) says too
PROGRESS = ACTIVE  # in the order they are reached
ENDED = ("completed", "canceled", "expired")

# When a phone gives no usable speed: a car in town, a bicycle, a walk (m/s).
TYPICAL_SPEED_MPS = {"car": 8.3, "bike": 4.2, "foot": 1.4}
MIN_MEASURED_SPEED_MPS = 1.0  # slower than this is standing at a light, not the trip's pace


@dataclass(frozen=True)
class Trip:
    trip_id: str
    store_id: str
    mode: str
    status: str
    target_lat: float
    target_lng: float
    distance_m: float | None = None
    eta_s: int | None = None


def speed_of(fix: Fix, previous: Fix | None) -> float | None:
    """The phone's own speed if it gives one, else what two recent fixes imply."""
    if fix.speed_mps is not None and fix.speed_mps >= MIN_MEASURED_SPEED_MPS:
        return fix.speed_mps
    if previous is not None:
        dt = (fix.ts - previous.ts).total_seconds()
        if 2 <= dt <= 120:
            v = distance_m(previous.lat, previous.lng, fix.lat, fix.lng) / dt
            if v >= MIN_MEASURED_SPEED_MPS:
                return v
    return None


def estimate(trip: Trip, fix: Fix, speed_mps: float | None) -> tuple[float, int]:
    """Distance to the pickup point (m) and the estimated time of arrival (s)."""
    distance = distance_m(fix.lat, fix.lng, trip.target_lat, trip.target_lng)
    pace = speed_mps if speed_mps is not None else TYPICAL_SPEED_MPS[trip.mode]
    return distance, round(distance / pace)


def _advance(trip: Trip, goal: str) -> tuple[Trip, list[str]]:
    """Move forward to `goal`, emitting every status passed on the way; never backwards."""
    if trip.status not in PROGRESS:
        return trip, []
    here, there = PROGRESS.index(trip.status), PROGRESS.index(goal)
    if there <= here:
        return trip, []
    passed = list(PROGRESS[here + 1 : there + 1])
    return replace(trip, status=goal), passed


def on_fix(
    trip: Trip, fix: Fix, speed_mps: float | None, inside_kinds: set[str], approach_eta_s: int
) -> tuple[Trip, list[str]]:
    """Update distance and ETA from a fix; return the trip and the statuses it reached."""
    if trip.status not in ACTIVE:
        return trip, []
    distance, eta = estimate(trip, fix, speed_mps)
    trip = replace(trip, distance_m=round(distance, 1), eta_s=eta)
    if inside_kinds & {"pickup", "store"}:
        goal = "arrived"
    elif "approach" in inside_kinds or eta <= approach_eta_s:
        goal = "approaching"
    else:
        return trip, []
    trip, reached = _advance(trip, goal)
    if trip.status == "arrived":
        trip = replace(trip, eta_s=0)
    return trip, reached


def on_zone_entered(trip: Trip, zone_kind: str) -> tuple[Trip, list[str]]:
    """A zone entered another way (a pickup-bay beacon) also counts."""
    if trip.status not in ACTIVE:
        return trip, []
    if zone_kind in ("pickup", "store"):
        trip, reached = _advance(trip, "arrived")
        return (replace(trip, eta_s=0) if reached else trip), reached
    if zone_kind == "approach":
        return _advance(trip, "approaching")
    return trip, []


def end(trip: Trip, how: str) -> tuple[Trip, list[str]]:
    """completed, canceled or expired: once, and only from an active trip."""
    if trip.status not in ACTIVE:
        return trip, []
    if how == "expired" and trip.status == "arrived":
        return trip, []  # the shopper is here: the order's own life decides now
    return replace(trip, status=how), [how]
