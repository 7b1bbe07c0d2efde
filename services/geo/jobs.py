"""geo's scheduled work; each job runs once per tick across replicas (shared.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.geo import repository as repo
from services.geo.device_state import DeviceState
from services.geo.ingest import rules_of
from shared.jobs import Job

BATCH = 500


async def fire_timers(state: Any, now: datetime) -> int:
    """Dwell timers and beacon exits fire in event time even when the phone has gone quiet.
    A device busy with a batch right now is skipped: that batch, or the next tick, handles it."""
    changed = 0
    async with state.pool.acquire() as conn:
        due = await repo.devices_with_due_timers(conn, now, state.config.beacon_exit_s, BATCH)
    for device_id in due:
        async with state.pool.acquire() as conn, conn.transaction():
            device = await DeviceState.load(conn, device_id, skip_locked=True)
            if device is None:
                continue
            before = device.presence
            device.stop_unless_needed()  # consent withdrawn a moment ago: nothing fires for it
            device.apply_time(now, state.zones.index, rules_of(state))
            changed += len(await device.save(conn, before))
    return changed


async def expire_trips(state: Any, now: datetime) -> int:
    started_before = now - timedelta(minutes=state.config.trip_expiry_minutes)
    changed = 0
    async with state.pool.acquire() as conn:
        devices = await repo.expired_trip_devices(conn, started_before, BATCH)
    for device_id in devices:
        async with state.pool.acquire() as conn, conn.transaction():
            device = await DeviceState.load(conn, device_id, skip_locked=True)
            if device is None:
                continue
            before = device.presence
            for ts in device.active_trips:
                if ts.started_at < started_before:
                    device.end_trips("expired", now, state.zones.index, order_id=ts.order_id)
            changed += len(await device.save(conn, before))
    return changed


async def purge_pings(state: Any, now: datetime) -> int:
    async with state.pool.acquire() as conn:
        return await repo.purge_pings(conn, now - timedelta(hours=state.config.ping_retention_hours))


JOBS = [
    Job("geo.timers", 5, fire_timers),
    Job("geo.trip_expiry", 60, expire_trips),
    Job("geo.ping_retention", 600, purge_pings),
]
