"""Retention, enforced on a schedule (once per tick across replicas, see shared/jobs.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.notify.back_in_stock import repository as back_in_stock_repo
from services.notify.context import NotifyContext
from services.notify.outbox import repository as outbox_repo
from services.notify.staff_alerts import repository as staff_repo
from services.notify.webhooks import repository as webhook_repo
from shared.jobs import Job


async def enforce_retention(ctx: NotifyContext, now: datetime) -> int:
    """The message log, staff alerts (they name the shopper), the webhook delivery log and ended
    back-in-stock requests (the proof of a message the log may hold) share the message retention; used
    stream tickets are forgotten once expired."""
    cutoff = now - timedelta(days=ctx.config.message_retention_days)
    async with ctx.db.transaction() as conn:
        deleted = await outbox_repo.delete_old_messages(conn, cutoff) + await staff_repo.delete_old_alerts(conn, cutoff)
        deleted += await webhook_repo.delete_old(conn, cutoff)
        deleted += await back_in_stock_repo.delete_ended(conn, cutoff)
        return deleted + await staff_repo.delete_expired_tickets(conn, now)


RETENTION = Job("notify.message_retention", 3600, enforce_retention)
