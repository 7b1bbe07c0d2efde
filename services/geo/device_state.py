"""A device's presence and active trips, loaded and saved under its row lock, and the engine that
applies fixes, sightings and the passing of time to them, turning what happened into bus events.

Everything that changes a device's state (pings, sightings, timers, trip endings) goes through
`DeviceState.load` first: the row lock serializes them, so no event fires twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import asyncpg

from services.geo import presence as pres
from services.geo import rate_limit, trips
from services.geo import repository as repo
from services.geo.rate_limit import Bucket
from services.geo.zone_index import Zone, ZoneIndex
from shared import bus
from shared.events import (
    EVENT_TYPES,
    TRIP_EVENTS,
    Event,
    TripData,
    ZoneExited,
)

SOURCE = "geo"


def fix_from_json(raw: dict[str, Any] | None) -> pres.Fix | None:
    if raw is None:
        return None
    return pres.Fix(
        ts=datetime.fromisoformat(raw["ts"]),
        lat=raw["lat"],
        lng=raw["lng"],
        accuracy_m=raw["accuracy_m"],
        speed_mps=raw.get("speed_mps"),
    )


@dataclass
class TripState:
    trip: trips.Trip
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
    bucket_spent: bool = False
    location_consented: bool = False
    events: list[Event] = field(default_factory=list)

    @classmethod
    async def load(cls, conn: asyncpg.Connection, device_id: str, *, skip_locked: bool = False) -> DeviceState | None:
        """The device's state under its row lock (created if new); None if skip_locked and it is busy."""
        row = await repo.lock_device(conn, device_id, repo.CONSENT_CONSUMER, skip_locked=skip_locked)
        if not row["known"]:
            if skip_locked:
                return None
            await repo.add_device(conn, device_id)
            row = await repo.lock_device(conn, device_id, repo.CONSENT_CONSUMER)
        return cls.from_row(device_id, row)

    @classmethod
    def from_row(cls, device_id: str, row: asyncpg.Record) -> DeviceState:
        visits = {
            (v["store_id"], v["zone_id"]): pres.Visit(
                entered_at=_time(v["entered_at"]),
                last_inside_at=_time(v["last_inside_at"]),
                confidence=v["confidence"],
                via=v["via"],
                dwelled=v["dwelled"],
                beacon_seen_at=_time(v["beacon_seen_at"]),
            )
            for v in row["visits"] or ()
        }
        presence = pres.Presence(
            last_ts=row["last_ts"],
            last_fix=fix_from_json(row["last_fix"]),
            outlier=fix_from_json(row["outlier"]),
            suspicious_at=row["suspicious_at"],
            visits=visits,
        )
        active = [trip_state(t) for t in sorted(row["trips"] or (), key=lambda t: t["started_at"])]
        bucket = Bucket(row["rate_tokens"] or 0.0, row["rate_at"])
        return cls(device_id, presence, active, bucket, location_consented=row["consented"])

    def stop_unless_needed(self) -> None:
        """Without the location consent, presence is kept only for a pickup trip under way. Otherwise the
        device is in no zone (its visits end without events: nothing is processed for it any more) and
        its last fixes are forgotten; only the time of the newest, which keeps late pings from moving
        anything, stays."""
        if self.location_consented or any(ts.trip.status in trips.ACTIVE for ts in self.active_trips):
            return
        self.presence = replace(self.presence, last_fix=None, outlier=None, suspicious_at=None, visits={})

    def take_request(self, now: datetime, capacity: float, per_s: float) -> float | None:
        """Spend one upload from the device's budget; seconds to wait if it is spent."""
        self.bucket, wait = rate_limit.take(self.bucket, now, capacity, per_s)
        self.bucket_spent = wait is None
        return wait

    def cursor(self) -> tuple[Any, ...]:
        """The device's row as it is written: last_ts, last_fix, outlier, suspicious_at, rate_tokens, rate_at
        (the fixes go to jsonb columns as they are: the codec encodes dataclasses)."""
        p, b = self.presence, self.bucket
        return (p.last_ts, p.last_fix, p.outlier, p.suspicious_at, b.tokens, b.at)

    async def save(self, conn: asyncpg.Connection, before: pres.Presence) -> list[Event]:
        """Write what changed and publish the events, in the caller's transaction."""
        p = self.presence
        if self.bucket_spent or (p.last_ts, p.last_fix, p.outlier, p.suspicious_at) != (
            before.last_ts,
            before.last_fix,
            before.outlier,
            before.suspicious_at,
        ):
            await repo.save_device(conn, self.device_id, *self.cursor())
        await self.save_history(conn, before)
        return await bus.publish(conn, SOURCE, self.events)

    async def save_history(self, conn: asyncpg.Connection, before: pres.Presence) -> None:
        """Write the visits, trips and visit log that changed; the device's row and the events are the caller's."""
        p = self.presence
        if p.visits != before.visits:
            await repo.replace_visits(
                conn,
                self.device_id,
                [
                    (s, z, v.entered_at, v.last_inside_at, v.confidence, v.via, v.dwelled, v.beacon_seen_at)
                    for (s, z), v in p.visits.items()
                ],
            )
        for ts in self.active_trips:
            if ts.changed_at is not None:
                t = ts.trip
                await repo.save_trip(conn, t.trip_id, t.status, t.distance_m, t.eta_s, ts.changed_at)
        closed = [
            (e.store_id, e.zone_id, e.data.kind, e.data.via, e.data.entered_at, e.ts)
            for e in self.events
            if isinstance(e, ZoneExited)
        ]
        if closed:
            await repo.log_visits(conn, self.device_id, closed)

    # --- applying what happened ---

    def _zone_events(self, transitions: Sequence[pres.Transition]) -> None:
        for t in transitions:
            zone = t.zone
            self.events.append(
                EVENT_TYPES[t.type](
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

    def apply_fix(self, fix: pres.Fix, index: ZoneIndex, rules: pres.Rules, approach_eta_s: int) -> None:
        previous = self.presence.last_fix
        self.presence, transitions = pres.step(self.presence, fix, index.zones_at, index.get, rules)
        self._zone_events(transitions)
        if self.presence.last_fix is not fix:
            return  # refused (older, inaccurate or implausible): trips do not move on it either
        speed = trips.speed_of(fix, previous)
        for ts in self.active_trips:
            inside = {z.kind for k in self.presence.visits if k[0] == ts.trip.store_id and (z := index.get(k))}
            before = ts.trip
            ts.trip, reached = trips.on_fix(ts.trip, fix, speed, inside, approach_eta_s)
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
                ts.trip, reached = trips.on_zone_entered(ts.trip, zone.kind)
                self._trip_events(ts, reached, at, index)

    def recheck_trips(self, index: ZoneIndex, at: datetime) -> None:
        """A trip that starts with the device already in the store's approach or pickup zone."""
        for ts in self.active_trips:
            kinds = {z.kind for k in self.presence.visits if k[0] == ts.trip.store_id and (z := index.get(k))}
            for kind in ("approach", "store", "pickup"):
                if kind in kinds:
                    ts.trip, reached = trips.on_zone_entered(ts.trip, kind)
                    self._trip_events(ts, reached, at, index)

    def apply_time(self, now: datetime, index: ZoneIndex, rules: pres.Rules) -> None:
        self.presence, transitions = pres.due(self.presence, now, index.get, rules)
        self._zone_events(transitions)

    def end_trips(
        self, how: str, at: datetime, index: ZoneIndex, order_id: str | None = None, reason: str | None = None
    ) -> None:
        """Complete, cancel or expire the active trips (of one order, if given)."""
        for ts in self.active_trips:
            if order_id is not None and ts.order_id != order_id:
                continue
            ts.trip, reached = trips.end(ts.trip, how)
            self._trip_events(ts, reached, at, index)
            if reached and reason is not None:
                self.events[-1].data.reason = reason  # type: ignore[attr-defined]
        self.stop_unless_needed()


def _time(value: datetime | str | None) -> datetime | None:
    """Timestamps read through json_agg arrive as ISO 8601 text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def trip_state(row: asyncpg.Record | dict[str, Any]) -> TripState:
    return TripState(
        trip=trips.Trip(
            trip_id=row["trip_id"],
            store_id=row["store_id"],
            mode=row["mode"],
            status=row["status"],
            target_lat=row["target_lat"],
            target_lng=row["target_lng"],
            distance_m=row["distance_m"],
            eta_s=row["eta_s"],
        ),
        device_id=row["device_id"],
        order_id=row["order_id"],
        display_name=row["display_name"],
        started_at=_time(row["started_at"]),
    )


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
    if status in trips.PROGRESS:
        data.eta_s, data.distance_m = t.eta_s, t.distance_m
    return TRIP_EVENTS[status](
        ts=at,
        device_id=ts.device_id,
        store_id=t.store_id,
        trip_id=t.trip_id,
        order_id=ts.order_id,
        data=data,
    )
