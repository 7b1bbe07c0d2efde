"""The one way to change devices: lock them and read their state, let the caller apply what happened,
then write back what changed and publish the events, in the caller's transaction.

    async with locked_devices(ctx, conn, device_ids) as batch:
        for device in batch.devices.values():
            device.apply_time(now, ...)
    batch.published  # the events as stored

One lock round trip for every device of the batch, and one write of each kind (pings and cursors
together, visits, trips, visit log, events) however many devices changed: an upload group of many
devices costs about what one device costs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import asyncpg
import msgspec

from services.geo.context import GeoContext
from services.geo.devices import presence as pres
from services.geo.devices import progress
from services.geo.devices import repository as repo
from services.geo.devices.device_state import DeviceState, TripState
from services.geo.devices.rate_limit import Bucket
from shared import bus
from shared.db import Row
from shared.events import Event, ZoneExited


@dataclass
class LockedDevices:
    devices: dict[str, DeviceState]
    """By device id, in id order: those that could be locked and were admitted (see `locked_devices`)."""
    pings: list[repo.DevicePing] = field(default_factory=list)
    """Raw pings to store, written with the devices' rows: each newer than anything its device had
    before, and no two of a device at the same time (none can be stored yet)."""
    pings_maybe_stored: list[repo.DevicePing] = field(default_factory=list)
    """Raw pings to store unless they are already (a retry, a late upload)."""
    published: list[Event] = field(default_factory=list)
    """After the block: every device's events, as stored (with their ids), in order."""


@asynccontextmanager
async def locked_devices(
    ctx: GeoContext,
    conn: asyncpg.Connection,
    device_ids: Sequence[str],
    *,
    skip_locked: bool = False,
    create: bool = True,
    consents: bus.Consumer | None = None,
) -> AsyncIterator[LockedDevices]:
    """The devices' states under their row locks, saved and their events published when the block
    ends without an error (an error writes nothing of them).

    skip_locked: a device busy in another transaction is left out (so is one without a row).
    create: a device without a row gets one; else it is left out.
    consents: only devices whose location may be processed are kept, after the pending events of this
    consent consumer for them are handled here (a consent changed a moment ago counts at once); a
    device left out has nothing about it stored. The consumer is given, not imported: its own handler
    changes devices through here (a withdrawal), in the same transaction."""
    batch = LockedDevices(await _lock(ctx, conn, device_ids, skip_locked, create and not skip_locked, consents))
    yield batch
    batch.published = await _save(ctx, conn, batch)


async def _lock(
    ctx: GeoContext,
    conn: asyncpg.Connection,
    device_ids: Sequence[str],
    skip_locked: bool,
    create: bool,
    consents: bus.Consumer | None,
) -> dict[str, DeviceState]:
    if not device_ids:
        return {}
    rows = await repo.lock_devices(conn, device_ids, skip_locked=skip_locked)
    if consents is not None:
        pending = sorted(d for d, row in rows.items() if row["consent_pending"])
        for device_id in pending:
            await bus.catch_up(conn, consents, device_id, ctx)
        if pending:
            rows |= await repo.lock_devices(conn, pending, skip_locked=skip_locked)
    devices = {d: device_of(d, row) for d, row in rows.items() if row["known"] or create}
    if consents is not None:
        devices = {d: device for d, device in devices.items() if device.may_track}
    if new := [d for d in devices if not rows[d]["known"]]:
        await repo.add_devices(conn, new)
        devices |= {d: device_of(d, row) for d, row in (await repo.lock_devices(conn, new)).items()}
    return devices


async def _save(ctx: GeoContext, conn: asyncpg.Connection, batch: LockedDevices) -> list[Event]:
    devices = list(batch.devices.values())
    cursors = [_cursor(d) for d in devices if d.cursor_changed]
    if cursors or batch.pings:
        await repo.write_pings(conn, batch.pings, cursors)
    if batch.pings_maybe_stored:
        await repo.store_pings_again(conn, batch.pings_maybe_stored, ctx.config.min_fix_interval)
    if moved := [d for d in devices if d.visits_changed]:
        await repo.replace_visits(
            conn,
            [d.device_id for d in moved],
            [
                repo.VisitRow(
                    d.device_id,
                    s,
                    z,
                    v.entered_at,
                    v.last_inside_at,
                    v.confidence,
                    v.via,
                    v.dwelled,
                    v.beacon_seen_at,
                    v.outside_since,
                    v.outside_fixes,
                )
                for d in moved
                for (s, z), v in d.presence.visits.items()
            ],
        )
    if trips := [ts for d in devices for ts in d.changed_trips()]:
        await repo.save_trips(conn, [_progress(ts) for ts in trips])
    if closed := [e for d in devices for e in d.closed_visits()]:
        await repo.log_visits(conn, [_closed(e) for e in closed])
    return await ctx.publish(conn, [e for d in devices for e in d.events])


def _cursor(device: DeviceState) -> repo.Cursor:
    """The device's row as written: msgspec encodes it, fixes and all, into the JSON the UPDATE reads."""
    p, b = device.presence, device.bucket
    evidence = (
        repo.Evidence(
            entries=[
                repo.StoredEntry(
                    store_id=s, zone_id=z, since=e.since, confidence=e.confidence, agreement=e.needs_agreement
                )
                for (s, z), e in p.entries.items()
            ],
            trail=p.trail,
            sighted_at=p.sighted_at,
        )
        if p.entries or p.trail or p.sighted_at
        else None
    )
    return repo.Cursor(
        device.device_id, p.last_ts, device.stored_ts, p.last_fix, p.outlier, p.suspicious_at, b.tokens, b.at, evidence
    )


def _closed(exited: ZoneExited) -> repo.ClosedVisit:
    e = exited
    assert e.device_id is not None and e.store_id is not None and e.zone_id is not None  # a zone event says all
    return repo.ClosedVisit(e.device_id, e.store_id, e.zone_id, e.data.kind, e.data.via, e.data.entered_at, e.ts)


def _progress(ts: TripState) -> repo.TripProgress:
    t = ts.trip
    assert ts.changed_at is not None  # only a trip that moved is saved
    return repo.TripProgress(t.trip_id, t.status, t.distance_m, t.eta_s, ts.changed_at)


# --- reading the locked rows ---
#
# The JSON parts of a locked row arrive as text and are decoded straight into their types, in C: built
# field by field in Python, a device's trail of fixes alone cost more than the rest of its upload.


class _StoredVisit(msgspec.Struct):
    """A row of geo.visits, as json_agg writes it."""

    store_id: str
    zone_id: str
    entered_at: datetime
    last_inside_at: datetime
    confidence: float
    via: pres.Via
    dwelled: bool
    beacon_seen_at: datetime | None
    outside_since: datetime | None
    outside_fixes: int


T = TypeVar("T")

_FIX = msgspec.json.Decoder(pres.Fix | None)
_VISITS = msgspec.json.Decoder(list[_StoredVisit] | None)
_EVIDENCE = msgspec.json.Decoder(repo.Evidence | None)


def device_of(device_id: str, row: asyncpg.Record) -> DeviceState:
    """The device's state from its locked row (repository.lock_devices)."""
    visits = {
        (v.store_id, v.zone_id): pres.Visit(
            entered_at=v.entered_at,
            last_inside_at=v.last_inside_at,
            confidence=v.confidence,
            via=v.via,
            dwelled=v.dwelled,
            beacon_seen_at=v.beacon_seen_at,
            outside_since=v.outside_since,
            outside_fixes=v.outside_fixes,
        )
        for v in _decoded(_VISITS, row["visits"]) or ()
    }
    evidence = _decoded(_EVIDENCE, row["evidence"]) or repo.Evidence()
    presence = pres.Presence(
        last_ts=row["last_ts"],
        last_fix=_decoded(_FIX, row["last_fix"]),
        outlier=_decoded(_FIX, row["outlier"]),
        suspicious_at=row["suspicious_at"],
        visits=visits,
        entries={
            (e.store_id, e.zone_id): pres.Entry(since=e.since, confidence=e.confidence, needs_agreement=e.agreement)
            for e in evidence.entries
        },
        trail=evidence.trail,
        sighted_at=evidence.sighted_at,
    )
    active = [trip_state(t) for t in sorted(row["trips"] or (), key=lambda t: t["started_at"])]
    bucket = Bucket(row["rate_tokens"] or 0.0, row["rate_at"])
    return DeviceState(
        device_id, presence, active, bucket, location_consented=row["consented"], stored_ts=row["stored_ts"]
    )


def _decoded(decoder: msgspec.json.Decoder[T], text: str | None) -> T | None:
    return None if text is None else decoder.decode(text)


def trip_state(row: Row) -> TripState:
    """A trip as stored (a row, or its JSON) with what its events need."""
    return TripState(
        trip=progress.Trip(
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


def _time(value: datetime | str) -> datetime:
    """Timestamps read through json_agg arrive as ISO 8601 text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
