"""Retention: raw location goes after hours, coarse history after days. Each job runs once per tick
across replicas (shared.jobs). Raw pings go a partition (an hour of them) at a time."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from services.geo.context import GeoContext
from services.geo.devices import repository as devices_repo
from services.geo.devices.service import MAX_FUTURE
from services.geo.privacy import partitions
from services.geo.privacy import repository as repo
from shared.jobs import Job

log = logging.getLogger("accueil.geo.partitions")


async def enforce_retention(ctx: GeoContext, now: datetime) -> int:
    config = ctx.config
    async with ctx.db.transaction() as conn:
        changed = await devices_repo.forget_idle_positions(conn, now - timedelta(hours=config.ping_retention_hours))
        changed += await devices_repo.coarsen_trips(conn, now - timedelta(hours=config.ping_retention_hours))
        changed += await devices_repo.forget_upload_answers(conn, now - timedelta(hours=config.ping_retention_hours))
        changed += await devices_repo.delete_history(conn, now - timedelta(days=config.history_days))
    return changed


async def create_ping_partitions(ctx: GeoContext, now: datetime) -> int:
    """Give geo.pings a partition for every hour a ping accepted from `now` on may fall in, and the
    headroom beyond (privacy.partitions); return how many were added. Run at startup, before geo
    serves, and by the maintenance job."""
    retention = timedelta(hours=ctx.config.ping_retention_hours)

    def missing(rows: list[Any]) -> list[datetime]:
        attached = [h for r in rows if r["attached"] and (h := partitions.hour_named(r["name"]))]
        return partitions.plan(attached, (), now, retention, MAX_FUTURE).create

    async with ctx.db.transaction(readonly=True) as conn:
        if not missing(await repo.ping_partitions(conn)):
            return 0  # the usual case: no lock taken
    async with ctx.db.transaction() as conn:
        await repo.lock_ping_partitions(conn)
        hours = missing(await repo.ping_partitions(conn))  # again: another replica may have added them
        for hour in hours:
            await repo.add_ping_partition(conn, partitions.name_of(hour), hour, hour + partitions.HOUR)
    if hours:
        log.info("added %d ping partitions, %s to %s", len(hours), hours[0].isoformat(), hours[-1].isoformat())
    return len(hours)


async def retire_ping_partitions(ctx: GeoContext, now: datetime) -> int:
    """Drop the partitions whose whole hour is older than the retention; return how many. Never a
    row DELETE: DETACH ... CONCURRENTLY then DROP TABLE, on a connection outside any transaction.
    A detach left pending by an interrupted run is finalized, a table detached but not dropped is
    dropped."""
    retention = timedelta(hours=ctx.config.ping_retention_hours)
    async with ctx.db.outside_transaction() as conn:
        if not await repo.try_lock_ping_partitions(conn):
            return 0  # another replica is at it
        try:
            rows = {h: r for r in await repo.ping_partitions(conn) if (h := partitions.hour_named(r["name"]))}
            attached = [h for h, r in rows.items() if r["attached"]]
            detached = [h for h, r in rows.items() if not r["attached"]]
            retire = partitions.plan(attached, detached, now, retention, MAX_FUTURE).retire
            for hour in retire:
                row = rows[hour]
                if row["attached"]:
                    await repo.detach_ping_partition(conn, row["name"], pending=row["detach_pending"])
                await repo.drop_ping_partition(conn, row["name"])
        finally:
            await repo.unlock_ping_partitions(conn)
    return len(retire)


async def maintain_ping_partitions(ctx: GeoContext, now: datetime) -> int:
    """The partitions ahead first (a retirement waiting on old transactions never delays them), then
    the old ones; returns the partitions added and dropped."""
    return await create_ping_partitions(ctx, now) + await retire_ping_partitions(ctx, now)


JOBS = [
    # Every 10 minutes, with 6 hours of partitions ahead (partitions.HEADROOM): many runs may fail
    # before an hour begins without its partition.
    Job("geo.ping_retention", int(partitions.MAINTENANCE_EVERY.total_seconds()), maintain_ping_partitions),
    Job("geo.history_retention", 3600, enforce_retention),
]
