"""The console sessions' clean-up (once per tick across replicas, shared.jobs)."""

from __future__ import annotations

from datetime import datetime

from services.notify.context import NotifyContext
from services.notify.operators import repository as repo
from shared.db import affected_rows
from shared.jobs import Job


async def forget_ended_sessions(ctx: NotifyContext, now: datetime) -> int:
    """An ended session opens nothing already (its row is looked up with its end); the row goes too."""
    async with ctx.db.transaction() as conn:
        return affected_rows(await repo.delete_expired_sessions(conn, now))


JOBS = [Job("notify.console_sessions", 3600, forget_ended_sessions)]
