"""Ping ingestion: validate, store, run presence in event time, publish transitions — one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.geo import repository as repo
from services.geo.consumers import CONSENTS
from services.geo.presence import Ping, Presence, Visit, step
from services.geo.schemas import IngestResult, PingIn, Rejected
from services.geo.zone_index import ZoneIndex
from shared import bus
from shared.events import NewEvent

SOURCE = "geo"
MAX_FUTURE = timedelta(minutes=5)  # phone clocks drift; further ahead is a broken clock
MAX_AGE = timedelta(hours=24)  # older than raw-ping retention: nothing useful left to do with it


def screen(pings: list[PingIn], now: datetime) -> tuple[list[tuple[int, PingIn]], list[Rejected]]:
    """Split a batch into usable pings and per-ping rejections (pure)."""
    usable, rejected = [], []
    for i, p in enumerate(pings):
        if p.ts > now + MAX_FUTURE:
            rejected.append(Rejected(index=i, reason="ts: in the future"))
        elif p.ts < now - MAX_AGE:
            rejected.append(Rejected(index=i, reason="ts: older than 24 h"))
        else:
            usable.append((i, p))
    return usable, rejected


async def location_allowed(conn: asyncpg.Connection, state: Any, device_id: str) -> bool:
    """Consent as notify last recorded it, including a change committed a moment ago."""
    await bus.catch_up(conn, CONSENTS, device_id, state)
    return await repo.location_consented(conn, device_id)


async def ingest(conn: asyncpg.Connection, state: Any, device_id: str, pings: list[PingIn]) -> IngestResult:
    now = datetime.now(UTC)
    if not await location_allowed(conn, state, device_id):
        return IngestResult(
            accepted=0,
            rejected=[Rejected(index=i, reason="no_location_consent") for i in range(len(pings))],
            events=[],
            reason="no_location_consent",
        )
    usable, rejected = screen(pings, now)
    if not usable:
        return IngestResult(accepted=0, rejected=rejected, events=[])

    last_ts = await repo.lock_device(conn, device_id)
    batch = sorted((p for _, p in usable), key=lambda p: p.ts)
    new_ts = await repo.insert_pings(conn, device_id, batch)

    presence = Presence(
        last_ts=last_ts,
        visits={
            (r["store_id"], r["zone_id"]): Visit(r["entered_at"], r["last_inside_at"], r["dwelled"])
            for r in await repo.open_visits(conn, device_id)
        },
    )
    index: ZoneIndex = state.zones.index
    transitions = []
    seen: set[datetime] = set()
    for p in batch:
        if p.ts not in new_ts or p.ts in seen:
            continue  # an exact duplicate: already applied once
        seen.add(p.ts)
        presence, found = step(presence, Ping(p.ts, p.lat, p.lng, p.accuracy_m), index.zones_at, index.get)
        transitions += found

    await repo.save_presence(
        conn,
        device_id,
        presence.last_ts,
        [(s, z, v.entered_at, v.last_inside_at, v.dwelled) for (s, z), v in presence.visits.items()],
    )
    events = await bus.publish(
        conn,
        SOURCE,
        [
            NewEvent(
                type=t.type, ts=t.ts, device_id=device_id, store_id=t.zone.store_id, zone_id=t.zone.zone_id, data=t.data
            )
            for t in transitions
        ],
    )
    return IngestResult(accepted=len(usable), rejected=rejected, events=events)
