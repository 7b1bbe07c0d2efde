"""geo's scheduled work; each job runs once per tick across replicas (shared.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.geo import repository as repo
from services.geo.context import GeoContext
from services.geo.device_state import DeviceState
from services.geo.ingest import rules_of
from shared.jobs import Job

BATCH = 500


async def fire_timers(ctx: GeoContext, now: datetime) -> int:
    """Dwell timers and beacon exits fire in event time even when the phone has gone quiet.
    A device busy with a batch right now is skipped: that batch, or the next tick, handles it."""
    changed = 0
    async with ctx.db.transaction() as conn:
        due = await repo.devices_with_due_timers(conn, now, ctx.config.beacon_exit_s, BATCH)
    for device_id in due:
        async with ctx.db.transaction() as conn:
            device = await DeviceState.load(conn, device_id, skip_locked=True)
            if device is None:
                continue
            before = device.presence
            device.stop_unless_needed()  # consent withdrawn a moment ago: nothing fires for it
            device.apply_time(now, ctx.zones.index, rules_of(ctx))
            changed += len(await device.save(conn, before))
    return changed


async def expire_trips(ctx: GeoContext, now: datetime) -> int:
    started_before = now - timedelta(minutes=ctx.config.trip_expiry_minutes)
    changed = 0
    async with ctx.db.transaction() as conn:
        devices = await repo.expired_trip_devices(conn, started_before, BATCH)
    for device_id in devices:
        async with ctx.db.transaction() as conn:
            device = await DeviceState.load(conn, device_id, skip_locked=True)
            if device is None:
                continue
            before = device.presence
            for ts in device.active_trips:
                if ts.started_at < started_before:
                    device.end_trips("expired", now, ctx.zones.index, order_id=ts.order_id)
            changed += len(await device.save(conn, before))
    return changed


async def purge_pings(ctx: GeoContext, now: datetime) -> int:
    async with ctx.db.transaction() as conn:
        return await repo.purge_pings(conn, now - timedelta(hours=ctx.config.ping_retention_hours))


JOBS = [
    Job("geo.timers", 5, fire_timers),
    Job("geo.trip_expiry", 60, expire_trips),
    Job("geo.ping_retention", 600, purge_pings),
]
