"""Retention: raw location goes after hours, coarse history after days. Each job runs once per tick
across replicas (shared.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.geo.context import GeoContext
from services.geo.privacy import repository as repo
from shared.jobs import Job


async def enforce_retention(ctx: GeoContext, now: datetime) -> int:
    config = ctx.config
    async with ctx.db.transaction() as conn:
        changed = await repo.forget_idle_positions(conn, now - timedelta(hours=config.ping_retention_hours))
        changed += await repo.coarsen_trips(conn, now - timedelta(hours=config.ping_retention_hours))
        changed += await repo.forget_upload_answers(conn, now - timedelta(hours=config.ping_retention_hours))
        changed += await repo.delete_history(conn, now - timedelta(days=config.history_days))
    return changed


async def purge_pings(ctx: GeoContext, now: datetime) -> int:
    async with ctx.db.transaction() as conn:
        return await repo.purge_pings(conn, now - timedelta(hours=ctx.config.ping_retention_hours))


JOBS = [
    Job("geo.ping_retention", 600, purge_pings),
    Job("geo.history_retention", 3600, enforce_retention),
]
