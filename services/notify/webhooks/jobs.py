"""The webhook deliveries' scheduled clean-up (once per tick across replicas, shared.jobs)."""

from __future__ import annotations

from datetime import datetime

from services.notify.context import NotifyContext
from services.notify.webhooks import repository as repo
from shared import bus
from shared.jobs import Job


async def blank_personal(ctx: NotifyContext, now: datetime) -> int:
    """A body waiting to be sent (a receiver down, retried for a day) is a copy of an event: the
    shopper's name, distance and ETA leave it when they leave the event log (bus.retention, hourly)."""
    async with ctx.db.transaction() as conn:
        return await repo.blank_personal(conn, bus.personal_cutoff(ctx, now))


JOBS = [Job("notify.webhook_personal_fields", 3600, blank_personal)]
