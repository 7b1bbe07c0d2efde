"""A device's export and its erasure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import msgspec

from services.geo.context import GeoContext
from services.geo.devices import repository as devices_repo
from services.geo.privacy.notice import collection
from services.geo.privacy.schemas import DeviceData, PrivacyNotice
from shared import erasure
from shared.bus import Consumer
from shared.events import ErasureRequested

PING_CHUNK = 1000
"""Pings read and written at a time by a device's export: its memory is bounded by this, not by how
many pings the device has."""


async def device_data(ctx: GeoContext, device_id: str) -> AsyncIterator[bytes]:
    """Everything geo holds about the device (the shopper's export gathers it through notify), as of
    one moment, as the JSON of DeviceData written piece by piece: the pings, a day of a device's
    fixes, are read through a cursor and written a chunk at a time."""
    async with ctx.db.transaction(isolation="repeatable_read", readonly=True) as conn:
        consent = await devices_repo.location_consent_of(conn, device_id)
        position = await devices_repo.position_of(conn, device_id)
        head = DeviceData(
            location_consent=dict(consent) if consent else None,
            position=dict(position) if position else None,
            pings=[],
            current_visits=[dict(r) for r in await devices_repo.open_visits(conn, device_id)],
            visit_history=[dict(r) for r in await devices_repo.visit_log_of(conn, device_id)],
            trips=[dict(r) for r in await devices_repo.trips_of_device(conn, device_id)],
        )
        before, after = msgspec.json.encode(head).split(_NO_PINGS, 1)
        yield before + b'"pings":['
        first = True
        async for chunk in devices_repo.pings_of(conn, device_id, PING_CHUNK):
            encoded = msgspec.json.encode([dict(r) for r in chunk])[1:-1]
            yield encoded if first else b"," + encoded
            first = False
        yield b"]" + after


_NO_PINGS = b'"pings":[]'  # where the pings go in the encoded DeviceData (no other field is named so)


def notice(ctx: GeoContext) -> PrivacyNotice:
    return PrivacyNotice(service=ctx.service, collects=collection(ctx.config))


async def erase(conn: asyncpg.Connection, event: ErasureRequested, ctx: GeoContext) -> None:
    """notify asked for a device's erasure: delete everything geo holds, then say so on the bus."""
    if event.device_id is not None:
        await devices_repo.erase_device(conn, event.device_id)
    await erasure.confirm(conn, ctx.service, event.data.erasure_id, datetime.now(UTC))


ERASURE = Consumer(name="geo.erasure", types=(ErasureRequested,), handle=erase)

CONSUMERS = [ERASURE]
