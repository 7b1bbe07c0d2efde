"""The presence state machine: fixes and beacon sightings in event-time order in, once-per-visit
transitions out. Pure: no clock, no I/O.

Location is noisy (a phone's error is roughly normal with a standard deviation of about half the
accuracy it reports, plus rare multipath outliers tens of metres off), so both ways need evidence:
- entering needs a fix whose accuracy circle lies mostly inside the zone; when that fix is a jump away
  from where the device just was (further than walking pace explains), it waits for the next fix to
  agree, so one wild fix opens no visit;
- a `store` or `department` zone is entered only by a device that stops or walks there: a car driving
  through it makes no visit (its entry waits, and lapses when the car leaves); `approach` and `pickup`
  zones count at any speed, for pickup trips;
- leaving needs fixes beyond an exit buffer as wide as their accuracy, one after the other, for at least
  `exit_confirm_s` (or two agreeing fixes far beyond any noise): one stray fix ends nothing, and the
  exit is dated at the first fix of that run, so a visit's duration stays true.
A zone entered through a beacon is left only when its beacons fall silent for the exit window, never
because of a GPS fix (indoors, GPS is noise).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Literal

import msgspec
from msgspec.structs import replace

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
WALKING_MPS = 3.0
"""A jump between fixes faster than this (after their accuracies) needs the next fix to agree."""
DRIVING_MPS = 5.5
"""About 20 km/h: faster than anyone walks into a shop; a car this fast is passing through."""
RECENT = timedelta(seconds=60)
"""A fix older than this says nothing about where the device is now."""
ONE_SECOND = timedelta(seconds=1)
TRAIL = timedelta(seconds=30)
TRAIL_FIXES = 16
"""Speed is measured against the oldest fix of the trail: over a few seconds, the scatter of two fixes
looks like movement; over half a minute it does not."""
FAR_M = 100.0
"""Beyond the exit buffer by this much (or four accuracies), a fix is no noise: two in a row that agree
with each other are a clear move away."""
AGREEING_MPS = 2 * DRIVING_MPS
"""Two far fixes agree when this pace (after their accuracies) explains the way between them: two
multipath outliers, scattered at random, do not."""
STOPPING_KINDS = frozenset({"store", "department"})
"""Zones a car passing through does not visit."""

Via = Literal["gps", "beacon"]
ZonesAt = Callable[[float, float], Sequence[Zone]]
ZoneOf = Callable[[ZoneKey], Zone | None]


class Fix(msgspec.Struct, frozen=True):
    ts: datetime
    lat: float
    lng: float
    accuracy_m: float
    speed_mps: float | None = None


class Visit(msgspec.Struct, frozen=True):
    entered_at: datetime
    last_inside_at: datetime
    confidence: float
    via: Via = "gps"
    dwelled: bool = False
    beacon_seen_at: datetime | None = None
    outside_since: datetime | None = None
    """The first of the fixes beyond the exit buffer seen since the device was last near the zone."""
    outside_fixes: int = 0


class Entry(msgspec.Struct, frozen=True):
    """An entry waiting for evidence: the next fix to agree after a jump, or a driver to stop or walk."""

    since: datetime
    confidence: float
    needs_agreement: bool
    """The fix was a jump from where the device just was: the next one must agree."""


class Presence(msgspec.Struct, frozen=True):
    last_ts: datetime | None = None  # newest fix applied: older ones never move presence
    last_fix: Fix | None = None  # newest plausible fix, the anchor for the speed check
    outlier: Fix | None = None  # a fix refused as implausible, kept to re-anchor on a real jump
    suspicious_at: datetime | None = None
    visits: dict[ZoneKey, Visit] = {}
    entries: dict[ZoneKey, Entry] = {}
    """Zones the device seems to have entered, waiting for evidence (no event yet)."""
    trail: tuple[Fix, ...] = ()
    """The last plausible fixes of the past TRAIL, oldest first: how fast the device goes."""
    sighted_at: datetime | None = None
    """The newest beacon sighting applied: older ones move nothing (a retried upload is harmless)."""


class Rules(msgspec.Struct, frozen=True):
    max_speed_mps: float = 70.0
    beacon_exit_s: int = 30
    exit_confirm_s: int = 60
    """How long a device must be seen beyond the exit buffer before its visit ends."""


class Transition(msgspec.Struct, frozen=True):
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


def confidence(edge_m: float, accuracy_m: float) -> float:
    """0..1: how likely the device really is on the side of the edge the fix puts it, given the fix's
    distance to the zone's edge (positive inside) and its accuracy (error σ ≈ accuracy / 2 across the
    edge). At the edge 0.5; one accuracy deep, 0.98. A small zone caps it: no fix lies deep inside it."""
    sigma = max(accuracy_m, 1.0) / 2
    return round(0.5 * (1 + math.erf(abs(edge_m) / (sigma * math.sqrt(2)))), 2)


def speed_at(fix: Fix, trail: tuple[Fix, ...]) -> float | None:
    """How fast the device is going: the phone's own speed if it gives one, else the distance from the
    oldest fix of the trail, less what the two fixes' errors explain, over the time between them."""
    if fix.speed_mps is not None:
        return fix.speed_mps
    base = next((f for f in trail if ONE_SECOND <= fix.ts - f.ts <= RECENT), None)
    if base is None:
        return None
    noise = math.hypot(fix.accuracy_m, base.accuracy_m) / 2
    moved = max(0.0, distance_m(base.lat, base.lng, fix.lat, fix.lng) - noise)
    return moved / (fix.ts - base.ts).total_seconds()


def _trail_with(trail: tuple[Fix, ...], fix: Fix) -> tuple[Fix, ...]:
    kept = tuple(f for f in trail if fix.ts - f.ts <= TRAIL)
    return (*kept, fix)[-TRAIL_FIXES:]


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


def due(
    presence: Presence, now: datetime, zone_of: ZoneOf, rules: Rules, quiet_exits: bool = True
) -> tuple[Presence, list[Transition]]:
    """What time alone brings: dwell timers that ran out, beacon zones whose beacons fell silent, and
    (unless `quiet_exits` is off: the phone is still sending) a phone gone quiet after it was seen out."""
    visits = dict(presence.visits)
    transitions: list[Transition] = []
    for key, visit in sorted(presence.visits.items(), key=lambda kv: kv[1].entered_at):
        zone = zone_of(key)
        if zone is None:
            del visits[key]  # the zone was deleted: its exit was published by the deletion itself
            continue
        if quiet_exits and _gone_quiet_outside(visit, now, rules):
            del visits[key]
            transitions.append(_exit(zone, visit, visit.outside_since or now, visit.confidence))
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
        dwell_at = visit.entered_at + timedelta(seconds=zone.dwell_s or 0)
        if zone.dwell_s and not visit.dwelled and now >= dwell_at:
            if visit.outside_since is not None and visit.outside_since <= dwell_at:
                continue  # it may have left before: the run of outside fixes decides first
            visits[key] = replace(visit, dwelled=True)
            transitions.append(_dwell(zone, visit))
    return _with_zones(replace(presence, visits=visits), transitions)


def _dwell(zone: Zone, visit: Visit) -> Transition:
    at = visit.entered_at + timedelta(seconds=zone.dwell_s or 0)
    data = ZoneDwelledData(
        kind=zone.kind,  # type: ignore[arg-type]
        dwell_s=zone.dwell_s or 0,
        confidence=visit.confidence,
        zones=[],
        name=zone.name,
    )
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
    leap_mps = implied_speed_mps(anchor, fix) if anchor is not None else 0.0  # from the last fix to this one
    if anchor is not None and leap_mps > rules.max_speed_mps:
        # Two implausible fixes that agree with each other mean the device really is elsewhere
        # (a first fix after a flight, a GPS cold start): re-anchor there. Otherwise, ignore it.
        outlier = presence.outlier
        if outlier is None or implied_speed_mps(outlier, fix) > rules.max_speed_mps:
            moved = replace(presence, last_ts=fix.ts, outlier=fix)
            if presence.suspicious_at is not None and fix.ts - presence.suspicious_at < SUSPICIOUS_REPEAT:
                return moved, []
            implied = round(leap_mps)
            suspicious = Transition(
                "location.suspicious", fix.ts, None, LocationSuspiciousData(implied_speed_mps=implied)
            )
            return replace(moved, suspicious_at=fix.ts), [suspicious]

    presence, transitions = due(presence, fix.ts, zone_of, rules)
    speed = speed_at(fix, presence.trail)
    driving = speed is not None and speed >= DRIVING_MPS
    # A jump is a move faster than walking, and than the device was going: a car keeps its pace (only
    # looked for past walking pace, the only case where it decides).
    jumped = (
        anchor is not None
        and fix.ts - anchor.ts <= RECENT
        and leap_mps > WALKING_MPS
        and leap_mps > 1.5 * (speed_at(anchor, presence.trail[:-1]) or 0)
    )
    # The fix before agrees with this one: the refused outlier it re-anchors on, or the last fix.
    agreed = presence.outlier if anchor is not None and leap_mps > rules.max_speed_mps else anchor
    visits = dict(presence.visits)
    for key, visit in presence.visits.items():
        zone = zone_of(key)
        if zone is None or visit.via == "beacon":
            continue
        visit, exited = _follow_visit(zone, visit, fix, agreed, rules)
        if exited:
            del visits[key]
            transitions.append(_exit(zone, visit, visit.outside_since or fix.ts, visit.confidence))
        else:
            visits[key] = visit

    entries: dict[ZoneKey, Entry] = {}
    for zone in zones_at(fix.lat, fix.lng):
        if zone.key in visits:
            continue
        edge = zone.shape.edge_distance_m(fix.lat, fix.lng)
        conf = confidence(edge, fix.accuracy_m)
        waiting = presence.entries.get(zone.key)
        if waiting is not None:  # this fix is in the zone too: it agrees
            waiting = replace(waiting, confidence=max(waiting.confidence, conf), needs_agreement=False)
        elif edge >= enter_margin_m(zone, fix.accuracy_m):
            waiting = Entry(since=fix.ts, confidence=conf, needs_agreement=jumped)
        else:
            continue
        if waiting.needs_agreement or (driving and zone.kind in STOPPING_KINDS):
            entries[zone.key] = waiting
            continue
        visits[zone.key] = Visit(entered_at=waiting.since, last_inside_at=fix.ts, confidence=waiting.confidence)
        data = ZoneEnteredData(
            kind=zone.kind,  # type: ignore[arg-type]
            confidence=waiting.confidence,
            via="gps",
            zones=[],
            name=zone.name,
        )
        transitions.append(Transition("zone.entered", waiting.since, zone, data))

    moved = Presence(
        last_ts=fix.ts,
        last_fix=fix,
        outlier=None,
        suspicious_at=presence.suspicious_at,
        visits=visits,
        entries=entries,
        trail=_trail_with(presence.trail, fix),
    )
    return _with_zones(moved, transitions)


def _follow_visit(zone: Zone, visit: Visit, fix: Fix, before: Fix | None, rules: Rules) -> tuple[Visit, bool]:
    """Where a fix leaves a GPS visit, and whether it has now ended: after a run of fixes beyond the exit
    buffer lasting `exit_confirm_s`, or at once on two far beyond any noise that agree with each other
    (`before` is the fix this one follows). A fix back near the zone ends the run."""
    edge = zone.shape.edge_distance_m(fix.lat, fix.lng)
    buffer = exit_buffer_m(fix.accuracy_m)
    if edge >= -buffer:
        inside = edge >= 0
        return replace(
            visit,
            last_inside_at=fix.ts if inside else visit.last_inside_at,
            confidence=max(visit.confidence, confidence(edge, fix.accuracy_m)) if inside else visit.confidence,
            outside_since=None,
            outside_fixes=0,
        ), False
    since = visit.outside_since or fix.ts
    visit = replace(visit, outside_since=since, outside_fixes=visit.outside_fixes + 1)
    lasted = visit.outside_fixes >= 2 and fix.ts - since >= timedelta(seconds=rules.exit_confirm_s)
    if lasted or (_far(zone, fix) and before is not None and _far(zone, before) and _agree(before, fix)):
        return replace(visit, confidence=confidence(edge, fix.accuracy_m)), True
    return visit, False


def _gone_quiet_outside(visit: Visit, now: datetime, rules: Rules) -> bool:
    """Seen beyond the exit buffer twice in a row, and nothing has brought it back in the confirmation
    time since: the phone went quiet outside (the timers job sees to it)."""
    return (
        visit.via == "gps"
        and visit.outside_since is not None
        and visit.outside_fixes >= 2
        and now >= visit.outside_since + timedelta(seconds=rules.exit_confirm_s)
    )


def _far(zone: Zone, fix: Fix) -> bool:
    beyond = -zone.shape.edge_distance_m(fix.lat, fix.lng) - exit_buffer_m(fix.accuracy_m)
    return beyond >= max(FAR_M, 4 * fix.accuracy_m)


def _agree(a: Fix, b: Fix) -> bool:
    return implied_speed_mps(a, b) <= AGREEING_MPS


def sight(
    presence: Presence, zone: Zone, ts: datetime, zone_of: ZoneOf, rules: Rules
) -> tuple[Presence, list[Transition]]:
    """A beacon of `zone` was heard at `ts`: enter the zone, or keep the visit alive. A sighting older
    than the newest one applied changes nothing."""
    if presence.sighted_at is not None and ts < presence.sighted_at:
        return presence, []
    presence, transitions = due(presence, ts, zone_of, rules)
    presence = replace(presence, sighted_at=ts)
    visits = dict(presence.visits)
    visit = visits.get(zone.key)
    if visit is None:
        visits[zone.key] = Visit(entered_at=ts, last_inside_at=ts, confidence=1.0, via="beacon", beacon_seen_at=ts)
        data = ZoneEnteredData(kind=zone.kind, confidence=1.0, via="beacon", zones=[], name=zone.name)  # type: ignore[arg-type]
        transitions.append(Transition("zone.entered", ts, zone, data))
    elif visit.beacon_seen_at is None or ts > visit.beacon_seen_at:
        visits[zone.key] = replace(visit, via="beacon", beacon_seen_at=ts, last_inside_at=max(ts, visit.last_inside_at))
    return _with_zones(replace(presence, visits=visits), transitions)


def zone_deleted(presence: Presence, zone: Zone, ts: datetime) -> tuple[Presence, list[Transition]]:
    """The zone itself is gone: a visit to it ends at `ts`, whatever the fixes say, and says why."""
    visit = presence.visits.get(zone.key)
    if visit is None:
        return presence, []
    exit = _exit(zone, visit, ts, visit.confidence)
    exit.data.reason = "zone_deleted"  # type: ignore[attr-defined]
    visits = {key: v for key, v in presence.visits.items() if key != zone.key}
    return _with_zones(replace(presence, visits=visits), [exit])
