"""The journeys feature's scheduled work (once per tick across replicas, see shared/jobs.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.notify.context import NotifyContext
from services.notify.journeys import repository as repo
from services.notify.journeys.runner import TIP_DELIVERY
from services.notify.outbox import repository as outbox_repo
from services.notify.outbox import service as outbox
from shared.jobs import Job

BATCH = 500


async def release_held_tips(ctx: NotifyContext, now: datetime) -> int:
    """A tip held through quiet hours is said when they end (its consent is checked again as it is
    sent): advice about a product collected is as good in the morning."""
    async with ctx.db.transaction() as conn:
        due = await outbox_repo.held_due(conn, TIP_DELIVERY.purpose, now, BATCH)
        held = await outbox_repo.lock_held(conn, [h["id"] for h in due])
        await outbox.release(conn, [h["id"] for h in held], TIP_DELIVERY)
    return len(held)


async def forget_old_enrollments(ctx: NotifyContext, now: datetime) -> int:
    """Enrollments ended longer ago than the message log is kept: their results go with their messages."""
    async with ctx.db.transaction() as conn:
        return await repo.delete_old(conn, now - timedelta(days=ctx.config.message_retention_days))


JOBS = [
    Job("notify.release_held_tips", 30, release_held_tips),
    Job("notify.enrollment_retention", 3600, forget_old_enrollments),
]
