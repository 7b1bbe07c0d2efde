"""The presence state machine: pings in event-time order in, once-per-visit transitions out. Pure.

Location is noisy, so entering and leaving are asymmetric (hysteresis): entering needs the ping's
accuracy circle to lie mostly inside the zone; leaving needs the device to be clearly outside, beyond
an exit buffer that grows with the reported accuracy. A phone lying at the door makes one visit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.geo.zone_index import Zone, ZoneKey

MAX_USABLE_ACCURACY_M = 150.0  # worse than this moves nothing
MIN_EXIT_BUFFER_M = 15.0


@dataclass(frozen=True)
class Ping:
    ts: datetime
    lat: float
    lng: float
    accuracy_m: float


@dataclass(frozen=True)
class Visit:
    entered_at: datetime
    last_inside_at: datetime
    dwelled: bool = False


@dataclass(frozen=True)
class Presence:
    last_ts: datetime | None = None
    visits: dict[ZoneKey, Visit] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    type: str  # zone.entered | zone.exited | zone.dwelled
    zone: Zone
    ts: datetime
    data: dict[str, object]


def enter_margin_m(zone: Zone, accuracy_m: float) -> float:
    """How far inside the edge a ping must be to count as entering: most of its accuracy circle,
    capped by the zone's size so that a small zone still registers."""
    return min(0.5 * accuracy_m, 0.25 * zone.shape.size_m)


def exit_buffer_m(accuracy_m: float) -> float:
    return max(MIN_EXIT_BUFFER_M, accuracy_m)


def confidence(zone: Zone, accuracy_m: float) -> float:
    """0..1: how sure a fix of this accuracy is about a zone of this size."""
    return round(max(0.0, min(1.0, zone.shape.size_m / (zone.shape.size_m + 2 * accuracy_m))), 2)


def _zone_list(visits: Iterable[ZoneKey]) -> list[dict[str, str]]:
    return [{"store_id": s, "zone_id": z} for s, z in sorted(visits)]


def step(
    presence: Presence,
    ping: Ping,
    zones_at: Callable[[float, float], list[Zone]],
    zone_of: Callable[[ZoneKey], Zone | None],
) -> tuple[Presence, list[Transition]]:
    """Apply one ping. Pings not newer than the last one, or too inaccurate, change nothing."""
    if presence.last_ts is not None and ping.ts <= presence.last_ts:
        return presence, []
    if ping.accuracy_m > MAX_USABLE_ACCURACY_M:
        return replace(presence, last_ts=ping.ts), []

    visits = dict(presence.visits)
    transitions: list[Transition] = []

    for key, visit in list(visits.items()):
        zone = zone_of(key)
        if zone is None:
            continue  # a deleted zone is closed by the zone deletion itself
        edge = zone.shape.edge_distance_m(ping.lat, ping.lng)
        if edge < -exit_buffer_m(ping.accuracy_m):
            del visits[key]
            duration = (visit.last_inside_at - visit.entered_at).total_seconds()
            transitions.append(
                Transition("zone.exited", zone, ping.ts, {"duration_s": round(duration), "kind": zone.kind})
            )
        elif edge >= 0:
            visits[key] = replace(visit, last_inside_at=ping.ts)

    for zone in zones_at(ping.lat, ping.lng):
        if zone.key in visits:
            continue
        if zone.shape.edge_distance_m(ping.lat, ping.lng) >= enter_margin_m(zone, ping.accuracy_m):
            visits[zone.key] = Visit(entered_at=ping.ts, last_inside_at=ping.ts)
            transitions.append(
                Transition(
                    "zone.entered",
                    zone,
                    ping.ts,
                    {"kind": zone.kind, "confidence": confidence(zone, ping.accuracy_m)},
                )
            )

    for key, visit in list(visits.items()):
        zone = zone_of(key)
        if zone is None or visit.dwelled or not zone.dwell_s:
            continue
        dwell_at = visit.entered_at + timedelta(seconds=zone.dwell_s)
        if ping.ts >= dwell_at:
            visits[key] = replace(visit, dwelled=True)
            transitions.append(Transition("zone.dwelled", zone, dwell_at, {"kind": zone.kind, "dwell_s": zone.dwell_s}))

    current = _zone_list(visits)
    for t in transitions:
        t.data["zones"] = current
    return Presence(last_ts=ping.ts, visits=visits), transitions
