"""Ping and beacon-sighting ingestion: screen, store, run presence and trips in event time, publish —
under the device's row lock. Uploads arriving together are written together (group_commit): one
transaction, one lock-and-load round trip, one write of every ping and cursor, one publish."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.geo import repository as repo
from services.geo.consents import CONSENTS
from services.geo.context import GeoContext
from services.geo.device_state import DeviceState
from services.geo.presence import Fix, Presence, Rules
from services.geo.schemas import Eddystone, IBeacon, IngestResult, PingIn, Rejected, SightingIn
from services.geo.zone_index import Zone
from shared import bus
from shared.errors import TooManyRequests
from shared.events import Event

MAX_FUTURE = timedelta(minutes=5)  # phone clocks drift; further ahead is a broken clock
NO_CONSENT = "no_location_consent"


def rules_of(ctx: GeoContext) -> Rules:
    return Rules(max_speed_mps=ctx.config.max_speed_mps, beacon_exit_s=ctx.config.beacon_exit_s)


def screen_time(ts: datetime, now: datetime, max_age: timedelta) -> str | None:
    """Why a timestamp is unusable, or None (pure)."""
    if ts > now + MAX_FUTURE:
        return "ts: in the future"
    if ts < now - max_age:
        return f"ts: older than {int(max_age.total_seconds() // 3600)} h"
    return None


async def load_allowed(conn: asyncpg.Connection, ctx: GeoContext, device_ids: list[str]) -> dict[str, DeviceState]:
    """The states of the devices whose location may be processed, under their row locks: with the
    `location` consent as notify last recorded it (including a change committed a moment ago), or during
    a pickup trip the shopper started. A device left out has nothing about it stored."""
    rows = await repo.lock_devices(conn, device_ids, CONSENTS.name)
    pending = sorted(d for d, row in rows.items() if row["consent_pending"])
    for device_id in pending:
        await bus.catch_up(conn, CONSENTS, device_id, ctx)
    if pending:
        rows |= await repo.lock_devices(conn, pending, CONSENTS.name)
    allowed = {d: row for d, row in rows.items() if row["consented"] or row["trips"]}
    if new := [d for d, row in allowed.items() if not row["known"]]:
        await repo.add_devices(conn, new)
        allowed |= await repo.lock_devices(conn, new, CONSENTS.name)
    return {d: DeviceState.from_row(d, row) for d, row in allowed.items()}


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


async def ingest(ctx: GeoContext, upload: Upload) -> IngestResult:
    """The answer to one upload, written together with the uploads that arrive alongside it."""
    return await ctx.uploads.submit(upload)


@dataclass
class _Applied:
    device: DeviceState
    before: Presence
    accepted: int
    rejected: list[Rejected]
    replayed: list[Event]


async def ingest_group(ctx: GeoContext, uploads: list[Upload]) -> list[IngestResult | Exception]:
    """Uploads of distinct devices, in one transaction; one outcome per upload, in order. A device over
    its budget fails its own upload only; a database failure fails them all (nothing is written)."""
    outcomes: list[_Applied | IngestResult | Exception] = []
    async with ctx.db.transaction() as conn:
        devices = await load_allowed(conn, ctx, [u.device_id for u in uploads])
        now = datetime.now(UTC)
        pings: list[tuple[str, PingIn]] = []
        for u in uploads:
            device = devices.get(u.device_id)
            if device is None:
                outcomes.append(_refused(len(u.pings if u.pings is not None else u.sightings or ())))
                continue
            try:
                spend_upload(device, ctx, now)
            except TooManyRequests as exc:
                outcomes.append(exc)
                continue
            before = device.presence
            if u.pings is not None:
                usable, rejected = apply_pings(device, ctx, now, u.pings)
                replayed = await replay_for_retry(conn, u.device_id, before, usable)
                pings.extend((u.device_id, p) for p in usable)
            else:
                usable, rejected = apply_sightings(device, ctx, now, u.sightings or [])
                replayed = []
            outcomes.append(_Applied(device, before, len(usable), rejected, replayed))
        applied = [o for o in outcomes if isinstance(o, _Applied)]
        if applied:  # the spent upload counts even when nothing in it was usable: every such device is written
            await repo.write_pings(conn, pings, [(a.device.device_id, *a.device.cursor()) for a in applied])
        for a in applied:
            await a.device.save_history(conn, a.before)
        published = iter(await ctx.publish(conn, [e for a in applied for e in a.device.events]))
    return [
        IngestResult(
            accepted=o.accepted,
            rejected=o.rejected,
            events=o.replayed + [next(published) for _ in o.device.events],
        )
        if isinstance(o, _Applied)
        else o
        for o in outcomes
    ]


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
    for p in usable:
        # A ping not newer than the last one applied changes nothing: that is also what makes an exact
        # duplicate (a retried upload) harmless. It is still stored, once.
        device.apply_fix(Fix(p.ts, p.lat, p.lng, p.accuracy_m, p.speed_mps), index, rules, eta)
    return usable, rejected


async def replay_for_retry(conn: asyncpg.Connection, device_id: str, before: Any, batch: list[PingIn]) -> list[Event]:
    """A retried upload (the answer to the first try was lost) gets the events its pings caused the
    first time, so the app hears them once whichever answer reaches it. Only pings already stored
    exactly as sent count; live pings, newer than anything stored, never pay for the look-up."""
    older = [p for p in batch if before.last_ts is not None and p.ts <= before.last_ts]
    if not older:
        return []
    stored = await repo.stored_pings(conn, device_id, [p.ts for p in older])
    again = [p.ts for p in older if stored.get(p.ts) == (p.lat, p.lng)]
    return await bus.events_of_device_at(conn, "geo", device_id, again) if again else []


def beacon_identity(ibeacon: IBeacon | None, eddystone: Eddystone | None) -> str:
    """What a beacon is known by, as registered and as sighted: lower-case hex, one zone each."""
    if ibeacon is not None:
        return f"ibeacon:{ibeacon.uuid.lower()}:{ibeacon.major}:{ibeacon.minor}"
    assert eddystone is not None
    return f"eddystone:{eddystone.namespace.lower()}:{eddystone.instance.lower()}"


def apply_sightings(
    device: DeviceState, ctx: GeoContext, now: datetime, sightings: list[SightingIn]
) -> tuple[list[tuple[datetime, Zone]], list[Rejected]]:
    """Run the sightings of known beacons through presence and trips, oldest first."""
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
