"""Retention, enforced on a schedule (once per tick across replicas, see shared/jobs.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.notify.back_in_stock import repository as back_in_stock_repo
from services.notify.consent import repository as consent_repo
from services.notify.context import NotifyContext
from services.notify.outbox import repository as outbox_repo
from services.notify.privacy import service
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


UNCONSENTED_BATCH = 500


async def erase_unconsented(ctx: NotifyContext, now: datetime) -> int:
    """A device that never recorded a consent is erased ACCUEIL_UNCONSENTED_DEVICE_HOURS after it
    registered: what a script registers by the thousand does not stay. Each in its own transaction, as
    an erasure the shopper asked for would be (geo and inventory forget it too)."""
    registered_before = now - timedelta(hours=ctx.config.unconsented_device_hours)
    erased, after = 0, None
    while True:
        async with ctx.db.transaction(readonly=True) as conn:
            found = await consent_repo.unconsented_devices(conn, registered_before, after, UNCONSENTED_BATCH)
        for row in found:
            erased += await service.erase_if_unconsented(ctx, row["device_id"], registered_before)
        if len(found) < UNCONSENTED_BATCH:
            return erased
        after = (found[-1]["created_at"], found[-1]["device_id"])


UNCONSENTED = Job("notify.unconsented_devices", 900, erase_unconsented)
