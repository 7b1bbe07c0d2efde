"""The presence state machine: fixes and beacon sightings in event-time order in, once-per-visit
transitions out. Pure: no clock, no I/O.

Location is noisy, so entering and leaving are asymmetric (hysteresis): entering needs the fix's
accuracy circle to lie mostly inside the zone; leaving needs the device to be clearly outside, beyond
an exit buffer that grows with the reported accuracy. A phone lying at the door makes one visit.
Indoors GPS is noise, so a zone entered through a beacon is left only when its beacons fall silent
for the exit window, never because of a GPS fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from services.geo.zones.zone_index import Zone, ZoneKey
from shared.events import (
    LocationSuspiciousData,
    Payload,
    ZoneDwelledData,
    ZoneEnteredData,
    ZoneExitedData,
    ZoneRef,
)
from shared.geodesy import distance_m

MAX_USABLE_ACCURACY_M = 150.0  # worse than this moves nothing
MIN_EXIT_BUFFER_M = 15.0
SUSPICIOUS_REPEAT = timedelta(minutes=10)  # one location.suspicious per episode, not per ping

Via = Literal["gps", "beacon"]
ZonesAt = Callable[[float, float], list[Zone]]
ZoneOf = Callable[[ZoneKey], Zone | None]


@dataclass(frozen=True)
class Fix:
    ts: datetime
    lat: float
    lng: float
    accuracy_m: float
    speed_mps: float | None = None


@dataclass(frozen=True)
class Visit:
    entered_at: datetime
    last_inside_at: datetime
    confidence: float
    via: Via = "gps"
    dwelled: bool = False
    beacon_seen_at: datetime | None = None


@dataclass(frozen=True)
class Presence:
    last_ts: datetime | None = None  # newest fix applied: older ones never move presence
    last_fix: Fix | None = None  # newest plausible fix, the anchor for the speed check
    outlier: Fix | None = None  # a fix refused as implausible, kept to re-anchor on a real jump
    suspicious_at: datetime | None = None
    visits: dict[ZoneKey, Visit] = field(default_factory=dict)


@dataclass(frozen=True)
class Rules:
    max_speed_mps: float = 70.0
    beacon_exit_s: int = 30


@dataclass(frozen=True)
class Transition:
    type: str  # zone.entered | zone.exited | zone.dwelled | location.suspicious
    ts: datetime
    zone: Zone | None
    data: Payload


def enter_margin_m(zone: Zone, accuracy_m: float) -> float:
    """How far inside the edge a fix must be to count as entering: most of its accuracy circle,
    capped by the zone's size so that a small zone still registers."""
    return min(0.5 * accuracy_m, 0.25 * zone.shape.size_m)


def exit_buffer_m(accuracy_m: float) -> float:
    return max(MIN_EXIT_BUFFER_M, accuracy_m)


def confidence(zone: Zone, accuracy_m: float) -> float:
    """0..1: how sure a fix of this accuracy is about a zone of this size."""
    size = zone.shape.size_m
    return round(max(0.0, min(1.0, size / (size + 2 * accuracy_m))), 2)


def implied_speed_mps(a: Fix, b: Fix) -> float:
    """The slowest speed that explains going from a to b, giving both fixes their accuracy."""
    gap = max(0.0, distance_m(a.lat, a.lng, b.lat, b.lng) - a.accuracy_m - b.accuracy_m)
    return gap / max(abs((b.ts - a.ts).total_seconds()), 1.0)


def current_zones(visits: dict[ZoneKey, Visit]) -> list[ZoneRef]:
    return [ZoneRef(store_id=s, zone_id=z) for s, z in sorted(visits)]


def _exit(zone: Zone, visit: Visit, ts: datetime, conf: float) -> Transition:
    duration = max(0.0, (visit.last_inside_at - visit.entered_at).total_seconds())
    data = ZoneExitedData(
        kind=zone.kind,  # type: ignore[arg-type]
        entered_at=visit.entered_at,
        duration_s=round(duration),
        confidence=conf,
        via=visit.via,
        zones=[],  # filled in by _with_zones
    )
    return Transition("zone.exited", ts, zone, data)


def _with_zones(presence: Presence, transitions: list[Transition]) -> tuple[Presence, list[Transition]]:
    """Every zone event carries where the device is after it."""
    zones = current_zones(presence.visits)
    for t in transitions:
        if t.zone is not None:
            t.data.zones = zones  # type: ignore[attr-defined]
    return presence, transitions


def due(presence: Presence, now: datetime, zone_of: ZoneOf, rules: Rules) -> tuple[Presence, list[Transition]]:
    """What time alone brings: dwell timers that ran out, beacon zones whose beacons fell silent."""
    visits = dict(presence.visits)
    transitions: list[Transition] = []
    for key, visit in sorted(presence.visits.items(), key=lambda kv: kv[1].entered_at):
        zone = zone_of(key)
        if zone is None:
            del visits[key]  # the zone was deleted: its exit was published by the deletion itself
            continue
        silent_since = visit.beacon_seen_at
        if visit.via == "beacon" and silent_since and now >= silent_since + timedelta(seconds=rules.beacon_exit_s):
            ends = silent_since + timedelta(seconds=rules.beacon_exit_s)
            if (
                zone.dwell_s
                and not visit.dwelled
                and visit.entered_at + timedelta(seconds=zone.dwell_s) <= silent_since
            ):
                transitions.append(_dwell(zone, visit))
            del visits[key]
            transitions.append(_exit(zone, visit, ends, visit.confidence))
            continue
        if zone.dwell_s and not visit.dwelled and now >= visit.entered_at + timedelta(seconds=zone.dwell_s):
            visits[key] = replace(visit, dwelled=True)
            transitions.append(_dwell(zone, visit))
    return _with_zones(replace(presence, visits=visits), transitions)


def _dwell(zone: Zone, visit: Visit) -> Transition:
    at = visit.entered_at + timedelta(seconds=zone.dwell_s or 0)
    data = ZoneDwelledData(kind=zone.kind, dwell_s=zone.dwell_s or 0, confidence=visit.confidence, zones=[])  # type: ignore[arg-type]
    return Transition("zone.dwelled", at, zone, data)


def step(
    presence: Presence, fix: Fix, zones_at: ZonesAt, zone_of: ZoneOf, rules: Rules
) -> tuple[Presence, list[Transition]]:
    """Apply one GPS fix. Fixes not newer than the last one, or too inaccurate, change nothing."""
    if presence.last_ts is not None and fix.ts <= presence.last_ts:
        return presence, []
    if fix.accuracy_m > MAX_USABLE_ACCURACY_M:
        return replace(presence, last_ts=fix.ts), []

    anchor = presence.last_fix
    if anchor is not None and implied_speed_mps(anchor, fix) > rules.max_speed_mps:
        # Two implausible fixes that agree with each other mean the device really is elsewhere
        # (a first fix after a flight, a GPS cold start): re-anchor there. Otherwise, ignore it.
        outlier = presence.outlier
        if outlier is None or implied_speed_mps(outlier, fix) > rules.max_speed_mps:
            moved = replace(presence, last_ts=fix.ts, outlier=fix)
            if presence.suspicious_at is not None and fix.ts - presence.suspicious_at < SUSPICIOUS_REPEAT:
                return moved, []
            speed = round(implied_speed_mps(anchor, fix))
            suspicious = Transition(
                "location.suspicious", fix.ts, None, LocationSuspiciousData(implied_speed_mps=speed)
            )
            return replace(moved, suspicious_at=fix.ts), [suspicious]

    presence, transitions = due(presence, fix.ts, zone_of, rules)
    visits = dict(presence.visits)
    for key, visit in presence.visits.items():
        zone = zone_of(key)
        if zone is None or visit.via == "beacon":
            continue
        edge = zone.shape.edge_distance_m(fix.lat, fix.lng)
        if edge < -exit_buffer_m(fix.accuracy_m):
            del visits[key]
            transitions.append(_exit(zone, visit, fix.ts, confidence(zone, fix.accuracy_m)))
        elif edge >= 0:
            visits[key] = replace(visit, last_inside_at=fix.ts)

    for zone in zones_at(fix.lat, fix.lng):
        if zone.key in visits:
            continue
        if zone.shape.edge_distance_m(fix.lat, fix.lng) >= enter_margin_m(zone, fix.accuracy_m):
            conf = confidence(zone, fix.accuracy_m)
            visits[zone.key] = Visit(entered_at=fix.ts, last_inside_at=fix.ts, confidence=conf)
            data = ZoneEnteredData(kind=zone.kind, confidence=conf, via="gps", zones=[])  # type: ignore[arg-type]
            transitions.append(Transition("zone.entered", fix.ts, zone, data))

    moved = Presence(last_ts=fix.ts, last_fix=fix, outlier=None, suspicious_at=presence.suspicious_at, visits=visits)
    return _with_zones(moved, transitions)


def sight(
    presence: Presence, zone: Zone, ts: datetime, zone_of: ZoneOf, rules: Rules
) -> tuple[Presence, list[Transition]]:
    """A beacon of `zone` was heard at `ts`: enter the zone, or keep the visit alive."""
    presence, transitions = due(presence, ts, zone_of, rules)
    visits = dict(presence.visits)
    visit = visits.get(zone.key)
    if visit is None:
        visits[zone.key] = Visit(entered_at=ts, last_inside_at=ts, confidence=1.0, via="beacon", beacon_seen_at=ts)
        data = ZoneEnteredData(kind=zone.kind, confidence=1.0, via="beacon", zones=[])  # type: ignore[arg-type]
        transitions.append(Transition("zone.entered", ts, zone, data))
    elif visit.beacon_seen_at is None or ts > visit.beacon_seen_at:
        visits[zone.key] = replace(visit, via="beacon", beacon_seen_at=ts, last_inside_at=max(ts, visit.last_inside_at))
    return _with_zones(replace(presence, visits=visits), transitions)
