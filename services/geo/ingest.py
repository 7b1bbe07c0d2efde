"""Ping and beacon-sighting ingestion: screen, store, run presence and trips in event time, publish —
all in the request's transaction, under the device's row lock."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.geo import repository as repo
from services.geo.consents import CONSENTS
from services.geo.device_state import SOURCE, DeviceState
from services.geo.presence import Fix, Rules
from services.geo.schemas import IngestResult, PingIn, Rejected, SightingIn
from shared import bus
from shared.errors import TooManyRequests
from shared.events import Event

MAX_FUTURE = timedelta(minutes=5)  # phone clocks drift; further ahead is a broken clock
NO_CONSENT = "no_location_consent"


def rules_of(state: Any) -> Rules:
    return Rules(max_speed_mps=state.config.max_speed_mps, beacon_exit_s=state.config.beacon_exit_s)


def screen_time(ts: datetime, now: datetime, max_age: timedelta) -> str | None:
    """Why a timestamp is unusable, or None (pure)."""
    if ts > now + MAX_FUTURE:
        return "ts: in the future"
    if ts < now - max_age:
        return f"ts: older than {int(max_age.total_seconds() // 3600)} h"
    return None


async def load_if_allowed(conn: asyncpg.Connection, state: Any, device_id: str) -> DeviceState | None:
    """The device's state under its lock, if its location may be processed: with the `location` consent
    as notify last recorded it (including a change committed a moment ago), or during a pickup trip the
    shopper started. None otherwise, and then nothing about the device is stored."""
    row = await repo.lock_device(conn, device_id, CONSENTS.name)
    if row["consent_pending"]:
        await bus.catch_up(conn, CONSENTS, device_id, state)
        row = await repo.lock_device(conn, device_id, CONSENTS.name)
    if not (row["consented"] or row["trips"]):
        return None
    if not row["known"]:
        await repo.add_device(conn, device_id)
        row = await repo.lock_device(conn, device_id, CONSENTS.name)
    return DeviceState.from_row(device_id, row)


def spend_upload(device: DeviceState, state: Any, now: datetime) -> None:
    """One upload from the device's budget, or 429 with the wait: more connections or more replicas
    do not help a misbehaving app, the budget lives in the device's locked row."""
    wait = device.take_request(now, state.config.request_burst, state.config.requests_per_s)
    if wait is not None:
        raise TooManyRequests(
            f"too many uploads from this device: retry in {wait:g} s", headers={"Retry-After": str(math.ceil(wait))}
        )


def _refused(count: int) -> IngestResult:
    return IngestResult(
        accepted=0, rejected=[Rejected(index=i, reason=NO_CONSENT) for i in range(count)], events=[], reason=NO_CONSENT
    )


async def ingest_pings(conn: asyncpg.Connection, state: Any, device_id: str, pings: list[PingIn]) -> IngestResult:
    device = await load_if_allowed(conn, state, device_id)
    if device is None:
        return _refused(len(pings))
    now = datetime.now(UTC)
    spend_upload(device, state, now)
    max_age = timedelta(hours=state.config.ping_retention_hours)
    usable: list[PingIn] = []
    rejected: list[Rejected] = []
    for i, p in enumerate(pings):
        if reason := screen_time(p.ts, now, max_age):
            rejected.append(Rejected(index=i, reason=reason))
        else:
            usable.append(p)
    before = device.presence
    if not usable:
        await device.save(conn, before)  # the spent upload counts all the same
        return IngestResult(accepted=0, rejected=rejected, events=[])

    batch = sorted(usable, key=lambda p: p.ts)
    index, rules, eta = state.zones.index, rules_of(state), state.config.trip_approach_eta_s
    for p in batch:
        # A ping not newer than the last one applied changes nothing: that is also what makes an exact
        # duplicate (a retried upload) harmless. It is still stored, once.
        device.apply_fix(Fix(p.ts, p.lat, p.lng, p.accuracy_m, p.speed_mps), index, rules, eta)
    replayed = await replay_for_retry(conn, device_id, before, batch)
    events = await device.save(conn, before, pings=batch)
    return IngestResult(accepted=len(usable), rejected=rejected, events=replayed + events)


async def replay_for_retry(conn: asyncpg.Connection, device_id: str, before: Any, batch: list[PingIn]) -> list[Event]:
    """A retried upload (the answer to the first try was lost) gets the events its pings caused the
    first time, so the app hears them once whichever answer reaches it. Only pings already stored
    exactly as sent count; live pings, newer than anything stored, never pay for the look-up."""
    older = [p for p in batch if before.last_ts is not None and p.ts <= before.last_ts]
    if not older:
        return []
    stored = await repo.stored_pings(conn, device_id, [p.ts for p in older])
    again = [p.ts for p in older if stored.get(p.ts) == (p.lat, p.lng)]
    return await bus.events_of_device_at(conn, SOURCE, device_id, again) if again else []


def beacon_identity(sighting: SightingIn) -> str:
    if sighting.ibeacon is not None:
        b = sighting.ibeacon
        return f"ibeacon:{b.uuid.lower()}:{b.major}:{b.minor}"
    assert sighting.eddystone is not None
    e = sighting.eddystone
    return f"eddystone:{e.namespace.lower()}:{e.instance.lower()}"


async def ingest_sightings(
    conn: asyncpg.Connection, state: Any, device_id: str, sightings: list[SightingIn]
) -> IngestResult:
    device = await load_if_allowed(conn, state, device_id)
    if device is None:
        return _refused(len(sightings))
    now = datetime.now(UTC)
    spend_upload(device, state, now)
    max_age = timedelta(hours=state.config.ping_retention_hours)
    index, rules = state.zones.index, rules_of(state)
    usable = []
    rejected: list[Rejected] = []
    for i, s in enumerate(sightings):
        zone_key = state.zones.beacons.get(beacon_identity(s))
        zone = index.get(zone_key) if zone_key else None
        if reason := screen_time(s.ts, now, max_age):
            rejected.append(Rejected(index=i, reason=reason))
        elif zone is None:
            rejected.append(Rejected(index=i, reason="unknown beacon"))
        else:
            usable.append((s.ts, zone))
    before = device.presence
    if not usable:
        await device.save(conn, before)
        return IngestResult(accepted=0, rejected=rejected, events=[])

    for ts, zone in sorted(usable, key=lambda u: u[0]):
        device.apply_sighting(zone, ts, index, rules)
    events = await device.save(conn, before)
    return IngestResult(accepted=len(usable), rejected=rejected, events=events)
