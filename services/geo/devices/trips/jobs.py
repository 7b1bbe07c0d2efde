"""Trips nobody ended; each job runs once per tick across replicas (shared.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.geo.context import GeoContext
from services.geo.devices import repository as repo
from services.geo.devices.unit_of_work import locked_devices
from shared.jobs import Job

BATCH = 500


async def expire_trips(ctx: GeoContext, now: datetime) -> int:
    """A trip that has not arrived long after it started expires. A device busy right now is skipped:
    the next tick has it."""
    started_before = now - timedelta(minutes=ctx.config.trip_expiry_minutes)
    async with ctx.db.transaction() as conn:
        due = await repo.devices_with_expired_trips(conn, started_before, BATCH)
        async with locked_devices(ctx, conn, due, skip_locked=True) as batch:
            for device in batch.devices.values():
                device.expire_trips(started_before, now, ctx.zones.index)
    return len(batch.published)


JOBS = [Job("geo.trip_expiry", 60, expire_trips)]
