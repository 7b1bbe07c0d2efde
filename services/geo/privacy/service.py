"""A device's export and its erasure."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services.geo.context import GeoContext
from services.geo.devices import repository as devices_repo
from services.geo.privacy.notice import collection
from services.geo.privacy.schemas import DeviceData, PrivacyNotice
from shared import erasure
from shared.bus import Consumer
from shared.events import ErasureRequested


async def device_data(ctx: GeoContext, device_id: str) -> DeviceData:
    """Everything geo holds about the device (the shopper's export gathers it through notify), as of
    one moment."""
    async with ctx.db.transaction(isolation="repeatable_read", readonly=True) as conn:
        consent = await devices_repo.location_consent_of(conn, device_id)
        position = await devices_repo.position_of(conn, device_id)
        return DeviceData(
            location_consent=dict(consent) if consent else None,
            position=dict(position) if position else None,
            pings=[dict(r) for r in await devices_repo.pings_of(conn, device_id)],
            current_visits=[dict(r) for r in await devices_repo.open_visits(conn, device_id)],
            visit_history=[dict(r) for r in await devices_repo.visit_log_of(conn, device_id)],
            trips=[dict(r) for r in await devices_repo.trips_of_device(conn, device_id)],
        )


def notice(ctx: GeoContext) -> PrivacyNotice:
    return PrivacyNotice(service=ctx.service, collects=collection(ctx.config))


async def erase(conn: asyncpg.Connection, event: ErasureRequested, ctx: GeoContext) -> None:
    """notify asked for a device's erasure: delete everything geo holds, then say so on the bus."""
    if event.device_id is not None:
        await devices_repo.erase_device(conn, event.device_id)
    await erasure.confirm(conn, ctx.service, event.data.erasure_id, datetime.now(UTC))


ERASURE = Consumer(name="geo.erasure", types=(ErasureRequested,), handle=erase)

CONSUMERS = [ERASURE]
