"""geo's copy of each device's location consent, fed by notify's consent.changed events."""

from __future__ import annotations

import asyncpg

from services.geo.context import GeoContext
from services.geo.devices import repository as repo
from services.geo.devices.unit_of_work import locked_devices
from shared.bus import Consumer
from shared.events import ConsentChanged, ErasureRequested


async def apply_consent(conn: asyncpg.Connection, event: ConsentChanged | ErasureRequested, ctx: GeoContext) -> None:
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
        await stop_tracking(ctx, conn, event.device_id)


async def stop_tracking(ctx: GeoContext, conn: asyncpg.Connection, device_id: str) -> None:
    """Location withdrawn: unless a pickup trip the shopper started still needs it, the device is in no
    zone any more (so no dwell or exit fires later) and its last fixes are forgotten. A device geo
    never tracked gets no row for it."""
    async with locked_devices(ctx, conn, [device_id], create=False) as batch:
        for device in batch.devices.values():
            device.stop_unless_needed()


CONSENTS = Consumer(name=repo.CONSENT_CONSUMER, types=(ConsentChanged, ErasureRequested), handle=apply_consent)

CONSUMERS = [CONSENTS]
