"""What phones send, and where a device is now.

Pings and beacon sightings are screened, stored, and run through presence and trips in event time
under the devices' row locks. Uploads arriving together are written together (shared.group_commit): one
transaction, one lock-and-load round trip, one write of every ping and cursor, one publish.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import cast

import asyncpg
import msgspec

from services.geo.context import GeoContext
from services.geo.devices import repository as repo
from services.geo.devices.consumers import CONSENTS
from services.geo.devices.device_state import DeviceState
from services.geo.devices.presence import Fix, Rules
from services.geo.devices.schemas import DeviceContext, IngestResult, PingIn, Rejected, SightingIn, TripOut, ZoneHere
from services.geo.devices.unit_of_work import locked_devices
from services.geo.zones.beacons import beacon_identity
from services.geo.zones.zone_index import Zone
from shared import bus
from shared.errors import TooManyRequests
from shared.events import AnyEvent, Event

MAX_FUTURE = timedelta(minutes=5)  # phone clocks drift; further ahead is a broken clock
NO_CONSENT = "no_location_consent"


def rules_of(ctx: GeoContext) -> Rules:
    return Rules(
        max_speed_mps=ctx.config.max_speed_mps,
        beacon_exit_s=ctx.config.beacon_exit_s,
        exit_confirm_s=ctx.config.exit_confirm_s,
    )


def screen_time(ts: datetime, now: datetime, max_age: timedelta) -> str | None:
    """Why a timestamp is unusable, or None (pure)."""
    if ts > now + MAX_FUTURE:
        return "ts: in the future"
    if ts < now - max_age:
        return f"ts: older than {int(max_age.total_seconds() // 3600)} h"
    return None


def spend_upload(device: DeviceState, ctx: GeoContext, now: datetime) -> None:
    """One upload from the device's budget, or 429 with the wait: more connections or more replicas
    do not help a misbehaving app, the budget lives in the device's locked row."""
    wait = device.take_request(now, ctx.config.request_burst, ctx.config.requests_per_s)
    if wait is not None:
        raise TooManyRequests(
            f"too many uploads from this device: retry in {wait:g} s", headers={"Retry-After": str(math.ceil(wait))}
        )


def _refused(count: int) -> IngestResult:
    return IngestResult(
        accepted=0, rejected=[Rejected(index=i, reason=NO_CONSENT) for i in range(count)], events=[], reason=NO_CONSENT
    )


@dataclass(frozen=True)
class Upload:
    """One request's pings, or its beacon sightings."""

    device_id: str
    pings: list[PingIn] | None = None
    sightings: list[SightingIn] | None = None

    @cached_property
    def fingerprint(self) -> bytes:
        """The same for the same upload sent again (whatever the order of its items): how a retry whose
        first answer was lost is known."""
        items = self.pings if self.pings is not None else self.sightings or []
        kind = b"pings" if self.pings is not None else b"sightings"
        encoded = sorted(msgspec.json.encode(item) for item in items)
        return hashlib.sha256(kind + b"\n" + b"\n".join(encoded)).digest()


async def ingest(ctx: GeoContext, upload: Upload) -> IngestResult:
    """The answer to one upload, written together with the uploads that arrive alongside it."""
    result = await ctx.uploads.submit(upload)
    # The context sits below devices and holds the group commit untyped; ingest_group answers this.
    assert isinstance(result, IngestResult)
    return result


@dataclass
class _Applied:
    device_id: str
    accepted: int
    rejected: list[Rejected]
    replayed: list[Event]
    older: list[PingIn] = field(default_factory=list)
    """Pings not newer than what the device had seen: maybe a retry's, whose events are replayed."""


async def ingest_group(ctx: GeoContext, uploads: list[Upload]) -> list[IngestResult | Exception]:
    """Uploads of distinct devices, in one transaction; one outcome per upload, in order. A device over
    its budget fails its own upload only; a database failure fails them all (nothing is written).
    A device whose location may not be processed has nothing about it stored."""
    try:
        return await _write_group(ctx, uploads)
    except asyncpg.DeadlockDetectedError:
        # The bus worker held a consent delivery of one of these devices and waited for its row, which
        # this group held while it waited for that delivery (bus.catch_up): PostgreSQL rolled the group
        # back. Written again, it finds the consent applied, or applies it itself.
        return await _write_group(ctx, uploads)


async def _write_group(ctx: GeoContext, uploads: list[Upload]) -> list[IngestResult | Exception]:
    outcomes: list[_Applied | IngestResult | Exception] = []
    async with ctx.db.transaction() as conn:
        async with locked_devices(ctx, conn, [u.device_id for u in uploads], consents=CONSENTS) as batch:
            now = datetime.now(UTC)
            answered = await _earlier_answers(conn, uploads, batch.devices)
            for u in uploads:
                device = batch.devices.get(u.device_id)
                if device is None:
                    outcomes.append(_refused(len(u.pings if u.pings is not None else u.sightings or ())))
                    continue
                try:
                    spend_upload(device, ctx, now)  # counts even when nothing in the upload is usable
                except TooManyRequests as exc:
                    outcomes.append(exc)
                    continue
                if u.pings is not None:
                    usable, rejected = apply_pings(device, ctx, now, u.pings)
                    new, maybe_stored = split_new(usable, device.loaded.last_ts)
                    new, maybe_stored = to_store(device, new, maybe_stored, ctx.config.min_fix_interval)
                    batch.pings.extend(repo.DevicePing(u.device_id, p) for p in new)
                    batch.pings_maybe_stored.extend(repo.DevicePing(u.device_id, p) for p in maybe_stored)
                    accepted = len(usable)
                else:
                    seen, rejected = apply_sightings(device, ctx, now, u.sightings or [])
                    accepted = len(seen)
                if (earlier := answered.get(u.device_id)) is not None:
                    replayed = await bus.events_by_id(conn, earlier)  # all it caused, timers included
                    outcomes.append(_Applied(u.device_id, accepted, rejected, replayed))
                else:
                    older = already_seen(usable, device.loaded.last_ts) if u.pings is not None else []
                    outcomes.append(_Applied(u.device_id, accepted, rejected, [], older))
            await replay_for_retries(ctx, conn, [o for o in outcomes if isinstance(o, _Applied) and o.older])
        published: dict[str | None, list[Event]] = {}
        for e in batch.published:  # a group has one upload per device: a device's events are its upload's
            published.setdefault(e.device_id, []).append(e)
        if caused := [
            repo.UploadEvent(u.device_id, u.fingerprint, e.id) for u in uploads for e in published.get(u.device_id, [])
        ]:
            await repo.remember_answers(conn, caused)
    return [
        IngestResult(
            accepted=o.accepted, rejected=o.rejected, events=_answered(o.replayed + published.get(o.device_id, []))
        )
        if isinstance(o, _Applied)
        else o
        for o in outcomes
    ]


def _answered(events: list[Event]) -> list[AnyEvent]:
    """The bus reads every event back as the Struct of its own type: one of the union the answer names."""
    return cast(list[AnyEvent], events)


async def _earlier_answers(
    conn: asyncpg.Connection, uploads: list[Upload], devices: dict[str, DeviceState]
) -> dict[str, list[int]]:
    """The events an identical earlier upload caused, by device, for the uploads that may be retries:
    sightings, and pings none newer than what the device has seen (a live upload never pays the look-up)."""
    maybe = [
        u
        for u in uploads
        if (device := devices.get(u.device_id)) is not None
        and (
            u.pings is None
            or (device.loaded.last_ts is not None and u.pings and max(p.ts for p in u.pings) <= device.loaded.last_ts)
        )
    ]
    if not maybe:
        return {}
    found = await repo.upload_answers(conn, [(u.device_id, u.fingerprint) for u in maybe])
    return {device_id: ids for (device_id, _), ids in found.items()}


def apply_pings(
    device: DeviceState, ctx: GeoContext, now: datetime, pings: list[PingIn]
) -> tuple[list[PingIn], list[Rejected]]:
    """Run the usable pings through presence and trips, oldest first; return them (to store) and the rejected."""
    max_age = timedelta(hours=ctx.config.ping_retention_hours)
    usable: list[PingIn] = []
    rejected: list[Rejected] = []
    for i, p in enumerate(pings):
        if reason := screen_time(p.ts, now, max_age):
            rejected.append(Rejected(index=i, reason=reason))
        else:
            usable.append(p)
    usable.sort(key=lambda p: p.ts)
    index, rules, eta = ctx.zones.index, rules_of(ctx), ctx.config.trip_approach_eta_s
    # The whole upload's zones in one call: the index answers a large batch faster than fix by fix,
    # and a small one fix by fix.
    found = index.resolve_many([p.lat for p in usable], [p.lng for p in usable])
    for p, here in zip(usable, found, strict=True):
        # A ping not newer than the last one applied changes nothing: that is also what makes an exact
        # duplicate (a retried upload) harmless. It is still stored, once.
        device.apply_fix(Fix(p.ts, p.lat, p.lng, p.accuracy_m, p.speed_mps), index, rules, eta, here)
    return usable, rejected


def split_new(pings: list[PingIn], last_ts: datetime | None) -> tuple[list[PingIn], list[PingIn]]:
    """The pings that cannot be stored yet, and those that may be (pure). Every ping stored of a device
    is at most as new as its cursor (`last_ts` moves to each newer ping applied, and only erasure, which
    removes the pings too, takes it back): a ping newer than it is new, unless the upload repeats its time."""
    new: list[PingIn] = []
    maybe_stored: list[PingIn] = []
    times: set[datetime] = set()
    for p in pings:
        if (last_ts is None or p.ts > last_ts) and p.ts not in times:
            times.add(p.ts)
            new.append(p)
        else:
            maybe_stored.append(p)
    return new, maybe_stored


def to_store(
    device: DeviceState, new: list[PingIn], maybe_stored: list[PingIn], interval: timedelta
) -> tuple[list[PingIn], list[PingIn]]:
    """Of the pings just applied (split_new's parts), those to store, at most one per `interval` of
    event time; the device's `stored_ts` moves to the newest. A late ping counts as stored (it is,
    unless a stored one is already close to it): no live one then lands within the interval of it."""
    new = spaced(new, device.stored_ts, interval)
    maybe_stored = spaced(maybe_stored, None, interval)
    newest = max((p.ts for p in new[-1:] + maybe_stored[-1:]), default=None)
    if newest is not None and (device.stored_ts is None or newest > device.stored_ts):
        device.stored_ts = newest
    return new, maybe_stored


def spaced(pings: list[PingIn], stored_ts: datetime | None, interval: timedelta) -> list[PingIn]:
    """The pings (oldest first) to store: each at least `interval` of event time after the one stored
    before it, the first after `stored_ts` (pure). A day of a device is so bounded by time, not by how
    often it uploads; the others have moved presence all the same."""
    kept: list[PingIn] = []
    next_at = None if stored_ts is None else stored_ts + interval
    for p in pings:
        if next_at is None or p.ts >= next_at:
            kept.append(p)
            next_at = p.ts + interval
    return kept


def already_seen(pings: list[PingIn], last_ts: datetime | None) -> list[PingIn]:
    """The pings not newer than the last one the device had applied (pure): only these can be a
    retry's; live pings, newer than anything stored, never pay for the look-up."""
    return [] if last_ts is None else [p for p in pings if p.ts <= last_ts]


async def replay_for_retries(ctx: GeoContext, conn: asyncpg.Connection, applied: list[_Applied]) -> None:
    """A retried upload (the answer to the first try was lost) gets the events its pings caused the
    first time, so the app hears them once whichever answer reaches it. Only pings already stored
    exactly as sent count: those of every upload of the group are looked up in one round trip,
    before the group's own pings are written."""
    if not applied:
        return
    stored = await repo.stored_pings(conn, [(a.device_id, p.ts) for a in applied for p in a.older])
    for a in applied:
        again = [p.ts for p in a.older if stored.get((a.device_id, p.ts)) == (p.lat, p.lng)]
        if again:
            a.replayed = await bus.events_of_device_at(conn, ctx.service, a.device_id, again)


def apply_sightings(
    device: DeviceState, ctx: GeoContext, now: datetime, sightings: list[SightingIn]
) -> tuple[list[tuple[datetime, Zone]], list[Rejected]]:
    """Run the sightings of known beacons through presence and trips, oldest first. Sightings move
    presence only: they are not stored."""
    max_age = timedelta(hours=ctx.config.ping_retention_hours)
    index, rules = ctx.zones.index, rules_of(ctx)
    usable: list[tuple[datetime, Zone]] = []
    rejected: list[Rejected] = []
    for i, s in enumerate(sightings):
        zone_key = ctx.zones.beacons.get(beacon_identity(s.ibeacon, s.eddystone))
        zone = index.get(zone_key) if zone_key else None
        if reason := screen_time(s.ts, now, max_age):
            rejected.append(Rejected(index=i, reason=reason))
        elif zone is None:
            rejected.append(Rejected(index=i, reason="unknown beacon"))
        else:
            usable.append((s.ts, zone))
    usable.sort(key=lambda u: u[0])
    for ts, zone in usable:
        device.apply_sighting(zone, ts, index, rules)
    return usable, rejected


async def end_visits_of_zone(ctx: GeoContext, conn: asyncpg.Connection, zone: Zone, at: datetime) -> None:
    """The zone is being deleted, in the caller's transaction: every device inside it leaves it at `at`
    (zone.exited, reason zone_deleted), under the devices' locks like any change to a device. The locks
    are held until the caller commits: a group of pings that loaded one of these devices before is
    waited for and its visits are read again; one that comes after reads them without the zone."""
    inside = await repo.devices_in_zone(conn, zone.store_id, zone.zone_id)
    async with locked_devices(ctx, conn, inside, create=False) as batch:
        for device in batch.devices.values():
            device.leave_deleted_zone(zone, at)


async def swap_waypoints_digest(ctx: GeoContext, device_id: str, digest: bytes) -> bool:
    """Remember `digest` as the set of store zones the device's OwnTracks app was sent; False when it
    already was (nothing new to send)."""
    async with ctx.db.transaction() as conn:
        return await repo.swap_waypoints_digest(conn, device_id, digest)


async def device_context(ctx: GeoContext, device_id: str) -> DeviceContext:
    """Where the device is now: its stores and zones, dwell so far, its active trip."""
    async with ctx.db.transaction(readonly=True) as conn:
        visits = await repo.open_visits(conn, device_id)
        active = await repo.active_trips_of_device(conn, device_id)
        last = await repo.last_ts_of(conn, device_id)
    now = datetime.now(UTC)
    index = ctx.zones.index
    zones = []
    for v in visits:
        zone = index.get((v["store_id"], v["zone_id"]))
        zones.append(
            ZoneHere(
                store_id=v["store_id"],
                zone_id=v["zone_id"],
                kind=zone.kind if zone else "unknown",
                name=zone.name if zone else None,
                entered_at=v["entered_at"],
                dwell_so_far_s=max(0, round((now - v["entered_at"]).total_seconds())),
                via=v["via"],
            )
        )
    return DeviceContext(
        device_id=device_id,
        stores=sorted({z.store_id for z in zones}),
        zones=sorted(zones, key=lambda z: (z.store_id, z.zone_id)),
        last_fix_at=last,
        active_trip=trip_out(active[0]) if active else None,
    )


def trip_out(row: asyncpg.Record) -> TripOut:
    return TripOut(
        trip_id=row["trip_id"],
        status=row["status"],
        store_id=row["store_id"],
        order_id=row["order_id"],
        mode=row["mode"],
        started_at=row["started_at"],
        display_name=row["display_name"],
        eta_s=row["eta_s"],
        distance_m=row["distance_m"],
        approaching_at=row["approaching_at"],
        arrived_at=row["arrived_at"],
        ended_at=row["ended_at"],
    )
