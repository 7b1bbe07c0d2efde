"""A device's presence and active trips, and the engine that applies fixes, sightings, trip endings, the
passing of time and a zone's deletion to them, turning what happened into bus events. Pure: no clock,
no I/O.

A state is only ever had from `unit_of_work.locked_devices`, which reads it under the device's row lock
and writes back what changed: the lock serializes everything that happens to a device, so no event
fires twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from msgspec.structs import replace

from services.geo.devices import presence as pres
from services.geo.devices import progress, rate_limit
from services.geo.devices.rate_limit import Bucket
from services.geo.zones.zone_index import Zone, ZoneIndex
from shared.events import EVENT_TYPES, TRIP_EVENTS, Event, TripData, ZoneExited


@dataclass
class TripState:
    trip: progress.Trip
    device_id: str
    order_id: str
    display_name: str | None
    started_at: datetime
    changed_at: datetime | None = None  # set when the trip moved: it needs saving


@dataclass
class DeviceState:
    device_id: str
    presence: pres.Presence
    active_trips: list[TripState]
    bucket: Bucket = Bucket(0.0, None)
    location_consented: bool = False
    loaded: pres.Presence = field(init=False)
    """The presence as it was read: what changed since is what gets written."""
    bucket_spent: bool = False
    events: list[Event] = field(default_factory=list)
    stored_ts: datetime | None = None
    """The event time of the device's newest stored fix (the ingest decides which fixes are stored)."""
    stored_ts_loaded: datetime | None = field(init=False)

    def __post_init__(self) -> None:
        self.loaded = self.presence
        self.stored_ts_loaded = self.stored_ts

    # --- what the writer needs to know ---

    @property
    def may_track(self) -> bool:
        """Its location may be processed: the shopper consents, or is on a pickup trip they started."""
        return self.location_consented or any(ts.trip.status in progress.ACTIVE for ts in self.active_trips)

    @property
    def cursor_changed(self) -> bool:
        p, q = self.presence, self.loaded
        mine = (p.last_ts, p.last_fix, p.outlier, p.suspicious_at, p.entries, p.trail, p.sighted_at)
        read = (q.last_ts, q.last_fix, q.outlier, q.suspicious_at, q.entries, q.trail, q.sighted_at)
        return self.bucket_spent or self.stored_ts != self.stored_ts_loaded or mine != read

    @property
    def visits_changed(self) -> bool:
        return self.presence.visits != self.loaded.visits

    def changed_trips(self) -> list[TripState]:
        return [ts for ts in self.active_trips if ts.changed_at is not None]

    def closed_visits(self) -> list[ZoneExited]:
        return [e for e in self.events if isinstance(e, ZoneExited)]

    # --- applying what happened ---

    def stop_unless_needed(self) -> None:
        """Without the location consent, presence is kept only for a pickup trip under way. Otherwise the
        device is in no zone (its visits end without events: nothing is processed for it any more) and
        its last fixes are forgotten; only the time of the newest, which keeps late pings from moving
        anything, stays."""
        if self.may_track:
            return
        self.presence = replace(
            self.presence, last_fix=None, outlier=None, suspicious_at=None, visits={}, entries={}, trail=()
        )  # the times of the newest fix and sighting stay: late ones still move nothing

    def take_request(self, now: datetime, capacity: float, per_s: float) -> float | None:
        """Spend one upload from the device's budget; seconds to wait if it is spent."""
        self.bucket, wait = rate_limit.take(self.bucket, now, capacity, per_s)
        self.bucket_spent = wait is None
        return wait

    def apply_fix(
        self,
        fix: pres.Fix,
        index: ZoneIndex,
        rules: pres.Rules,
        approach_eta_s: int,
        zones_here: Sequence[Zone] | None = None,
    ) -> None:
        """`zones_here`: the zones at the fix, when its batch was resolved at once."""
        previous = self.presence.last_fix
        zones_at = index.zones_at if zones_here is None else lambda _lat, _lng: zones_here
        self.presence, transitions = pres.step(self.presence, fix, zones_at, index.get, rules)
        self._zone_events(transitions)
        if self.presence.last_fix is not fix:
            return  # refused (older, inaccurate or implausible): trips do not move on it either
        speed = progress.speed_of(fix, previous)
        for ts in self.active_trips:
            before = ts.trip
            ts.trip, reached = progress.on_fix(ts.trip, fix, speed, self._kinds_inside(ts, index), approach_eta_s)
            if ts.trip != before and ts.changed_at is None:
                ts.changed_at = fix.ts
            self._trip_events(ts, reached, fix.ts, index)

    def apply_sighting(self, zone: Zone, at: datetime, index: ZoneIndex, rules: pres.Rules) -> None:
        self.presence, transitions = pres.sight(self.presence, zone, at, index.get, rules)
        self._zone_events(transitions)
        if not any(t.type == "zone.entered" for t in transitions):
            return
        for ts in self.active_trips:
            if ts.trip.store_id == zone.store_id:
                ts.trip, reached = progress.on_zone_entered(ts.trip, zone.kind)
                self._trip_events(ts, reached, at, index)

    def leave_deleted_zone(self, zone: Zone, at: datetime) -> None:
        """The zone is being deleted: the device is in it no more, from `at` (trips never move back)."""
        self.presence, transitions = pres.zone_deleted(self.presence, zone, at)
        self._zone_events(transitions)

    def apply_time(self, now: datetime, index: ZoneIndex, rules: pres.Rules) -> None:
        """Time passing, on the wall clock (the timers job). A phone that uploaded within the exit
        confirmation is not quiet, whatever the times of its fixes (a late batch being sent): its own
        fixes decide whether it left."""
        sending = self.bucket.at is not None and now - self.bucket.at < timedelta(seconds=rules.exit_confirm_s)
        self.presence, transitions = pres.due(self.presence, now, index.get, rules, quiet_exits=not sending)
        self._zone_events(transitions)

    def add_trip(self, trip: TripState, index: ZoneIndex, at: datetime) -> None:
        """A trip just started. A shopper who taps "I'm on my way" already standing in the store's
        approach or pickup zone has reached it at once."""
        self.active_trips.append(trip)
        for ts in self.active_trips:
            kinds = self._kinds_inside(ts, index)
            for kind in ("approach", "store", "pickup"):
                if kind in kinds:
                    ts.trip, reached = progress.on_zone_entered(ts.trip, kind)
                    self._trip_events(ts, reached, at, index)

    def end_trips(
        self, how: str, at: datetime, index: ZoneIndex, order_id: str | None = None, reason: str | None = None
    ) -> None:
        """Complete, cancel or expire the active trips (of one order, if given)."""
        for ts in self.active_trips:
            if order_id is not None and ts.order_id != order_id:
                continue
            ts.trip, reached = progress.end(ts.trip, how)
            self._trip_events(ts, reached, at, index)
            if reached and reason is not None:
                self.events[-1].data.reason = reason  # type: ignore[attr-defined]
        self.stop_unless_needed()

    def expire_trips(self, started_before: datetime, now: datetime, index: ZoneIndex) -> None:
        """The trips started before `started_before` that have not arrived end as expired."""
        for ts in self.active_trips:
            if ts.started_at < started_before:
                self.end_trips("expired", now, index, order_id=ts.order_id)

    def _kinds_inside(self, ts: TripState, index: ZoneIndex) -> set[str]:
        """The kinds of the trip's store zones the device is in."""
        return {z.kind for k in self.presence.visits if k[0] == ts.trip.store_id and (z := index.get(k))}

    def _zone_events(self, transitions: Sequence[pres.Transition]) -> None:
        for t in transitions:
            zone = t.zone
            make: Callable[..., Event] = EVENT_TYPES[t.type]  # the type's own Struct, with its payload
            self.events.append(
                make(
                    ts=t.ts,
                    device_id=self.device_id,
                    store_id=zone.store_id if zone else None,
                    zone_id=zone.zone_id if zone else None,
                    data=t.data,
                )
            )

    def _trip_events(self, ts: TripState, reached: Sequence[str], at: datetime, index: ZoneIndex) -> None:
        if not reached:
            return
        ts.changed_at = at
        for status in reached:
            self.events.append(trip_event(ts, status, at, index))


def bay_of(store_id: str, index: ZoneIndex) -> str | None:
    """The pickup bay staff walk out to: the name (or id) of the store's pickup zone."""
    for zone in index.zones_of_store(store_id):
        if zone.kind == "pickup":
            return zone.name or zone.zone_id
    return None


def trip_event(ts: TripState, status: str, at: datetime, index: ZoneIndex) -> Event:
    t = ts.trip
    data = TripData(
        status=status,  # type: ignore[arg-type]
        mode=t.mode,  # type: ignore[arg-type]
        display_name=ts.display_name,
        bay=bay_of(t.store_id, index),
    )
    if status in progress.PROGRESS:
        data.eta_s, data.distance_m = t.eta_s, t.distance_m
    make: Callable[..., Event] = TRIP_EVENTS[status]  # the status's own Struct, with its payload
    return make(
        ts=at,
        device_id=ts.device_id,
        store_id=t.store_id,
        trip_id=t.trip_id,
        order_id=ts.order_id,
        data=data,
    )
