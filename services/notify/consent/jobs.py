"""The registration budgets' scheduled clean-up (once per tick across replicas, shared.jobs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.notify.consent import repository as repo
from services.notify.context import NotifyContext
from shared.jobs import Job


async def forget_budgets(ctx: NotifyContext, now: datetime) -> int:
    """An hour's count is of no use after the hour: the hashed addresses go with it."""
    async with ctx.db.transaction() as conn:
        return await repo.forget_registration_budgets(conn, now - timedelta(hours=2))


JOBS = [Job("notify.registration_budgets", 3600, forget_budgets)]
