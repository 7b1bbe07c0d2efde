"""The audit log's retention (once per tick across replicas, see shared/jobs.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.notify.audit import repository as repo
from services.notify.context import NotifyContext
from shared.jobs import Job


async def forget_old(ctx: NotifyContext, now: datetime) -> int:
    """Entries older than ACCUEIL_AUDIT_RETENTION_DAYS are deleted."""
    async with ctx.db.transaction() as conn:
        return await repo.delete_older_than(conn, now - timedelta(days=ctx.config.audit_retention_days))


RETENTION = Job("notify.audit_retention", 3600, forget_old)
JOBS = [RETENTION]
