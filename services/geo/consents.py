"""geo's copy of each device's location consent, fed by notify's consent.changed events."""

from __future__ import annotations

import asyncpg

from services.geo import repository as repo
from services.geo.context import GeoContext
from services.geo.device_state import DeviceState
from shared.bus import Consumer
from shared.events import ConsentChanged, ErasureRequested


async def apply_consent(conn: asyncpg.Connection, event: ConsentChanged | ErasureRequested, _ctx: GeoContext) -> None:
    """Keep the location purpose; the newest event wins, whatever order they are handled in.
    An erasure request withdraws it at once (the erasure itself follows), so a ping sent right after
    the erasure call returned is not processed."""
    if event.device_id is None:
        return
    if isinstance(event, ErasureRequested):
        await repo.forget_location_consent(conn, event.device_id)
        return
    location = event.data.purposes.get("location")
    if location is None:
        return
    await repo.set_location_consent(conn, event.device_id, location, event.id)
    if not location:
        await stop_tracking(conn, event.device_id)


async def stop_tracking(conn: asyncpg.Connection, device_id: str) -> None:
    """Location withdrawn: unless a pickup trip the shopper started still needs it, the device is in no
    zone any more (so no dwell or exit fires later) and its last fixes are forgotten."""
    row = await repo.lock_device(conn, device_id, repo.CONSENT_CONSUMER)
    if not row["known"]:
        return
    device = DeviceState.from_row(device_id, row)
    before = device.presence
    device.stop_unless_needed()
    await device.save(conn, before)


CONSENTS = Consumer(name=repo.CONSENT_CONSUMER, types=(ConsentChanged, ErasureRequested), handle=apply_consent)
