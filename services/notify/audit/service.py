"""The audit log: kept from the `audit.recorded` events of the three services, read a page at a time."""

from __future__ import annotations

from services.notify.audit import repository as repo
from services.notify.audit.schemas import AuditEntry, AuditPage
from services.notify.context import NotifyContext


async def page(ctx: NotifyContext, after: int, limit: int) -> AuditPage:
    async with ctx.db.transaction(readonly=True) as conn:
        rows = await repo.page(conn, after, limit)
    entries = [AuditEntry(**dict(r)) for r in rows]
    return AuditPage(entries=entries, next_after=entries[-1].id if entries else after)
