"""The audit log: kept from the `audit.recorded` events of the three services, read a page at a time,
forgotten after the retention period."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from services.notify.audit import repository as repo
from services.notify.audit.schemas import AuditEntry, AuditPage
from services.notify.context import NotifyContext
from shared.events import AuditRecorded


async def keep(conn: asyncpg.Connection, event: AuditRecorded, _ctx: NotifyContext) -> None:
    """A bus handler: the entry is copied in the claiming transaction (exactly once)."""
    await repo.insert(conn, event)


async def page(ctx: NotifyContext, after: int, limit: int) -> AuditPage:
    async with ctx.db.transaction(readonly=True) as conn:
        rows = await repo.page(conn, after, limit)
    entries = [AuditEntry(**dict(r)) for r in rows]
    return AuditPage(entries=entries, next_after=entries[-1].id if entries else after)


async def forget_old(ctx: NotifyContext, now: datetime) -> int:
    """Entries older than ACCUEIL_AUDIT_RETENTION_DAYS are deleted."""
    async with ctx.db.transaction() as conn:
        return await repo.delete_older_than(conn, now - timedelta(days=ctx.config.audit_retention_days))
