"""Time passing, for devices gone quiet; each job runs once per tick across replicas (shared.jobs)."""

from __future__ import annotations

from datetime import datetime

from services.geo.context import GeoContext
from services.geo.devices import repository as repo
from services.geo.devices.service import rules_of
from services.geo.devices.unit_of_work import locked_devices
from shared.jobs import Job

BATCH = 500


async def fire_timers(ctx: GeoContext, now: datetime) -> int:
    """Dwell timers and beacon exits fire in event time even when the phone has gone quiet.
    A device busy with a batch right now is skipped: that batch, or the next tick, handles it."""
    async with ctx.db.transaction() as conn:
        due = await repo.devices_with_due_timers(conn, now, ctx.config.beacon_exit_s, ctx.config.exit_confirm_s, BATCH)
        async with locked_devices(ctx, conn, due, skip_locked=True) as batch:
            for device in batch.devices.values():
                device.stop_unless_needed()  # consent withdrawn a moment ago: nothing fires for it
                device.apply_time(now, ctx.zones.index, rules_of(ctx))
    return len(batch.published)


JOBS = [Job("geo.timers", 5, fire_timers)]
