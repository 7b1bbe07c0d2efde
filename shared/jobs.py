"""Scheduled work (APScheduler 3, inside each service's lifespan) that runs once per tick cluster-wide.

Every replica schedules every job on the same epoch-aligned instants; at each instant the replicas
race to insert (job, tick) into bus.job_runs and only the winner runs it. A replica that dies
mid-run leaves its row unfinished: that tick is not run twice, the next tick runs as usual.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import Counter, Gauge

from shared.db import UNAVAILABLE

log = logging.getLogger("accueil.jobs")

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
OWNER = f"{socket.gethostname()}:{os.getpid()}"
STOP_GRACE_S = 15

JOB_LAST_RUN = Gauge("accueil_job_last_run_timestamp_seconds", "When the job last ran here", ["job"])
JOB_ROWS = Counter("accueil_job_rows_total", "Rows the job changed (deleted, coarsened, expired...)", ["job"])
JOB_FAILURES = Counter("accueil_job_failures_total", "Runs of the job that raised", ["job"])

# A job gets its service's context (shared.context) and the tick's time, and returns how many rows it changed.
JobFn = Callable[[Any, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    name: str
    every_s: int
    run: JobFn


def tick_of(now: datetime, every_s: int) -> datetime:
    """The start of the interval `now` falls in, counted from a fixed epoch: the same on every replica."""
    elapsed = int((now - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=elapsed - elapsed % every_s)


async def claim(conn: asyncpg.Connection, job: str, tick: datetime) -> bool:
    return bool(
        await conn.fetchval(
            """
            INSERT INTO bus.job_runs (job, tick, owner) VALUES ($1, $2, $3)
            ON CONFLICT (job, tick) DO NOTHING
            RETURNING true
            """,
            job,
            tick,
            OWNER,
        )
    )


async def run_once(ctx: Any, job: Job, now: datetime | None = None) -> int | None:
    """Run the job for the tick `now` falls in, unless another replica already has; return its rows."""
    now = now or datetime.now(UTC)
    tick = tick_of(now, job.every_s)
    async with ctx.db.transaction() as conn:
        if not await claim(conn, job.name, tick):
            return None
    rows, error = 0, None
    try:
        rows = await job.run(ctx, now)
        JOB_ROWS.labels(job.name).inc(rows)
        return rows
    except Exception as exc:
        error = repr(exc)[:500]
        JOB_FAILURES.labels(job.name).inc()
        raise
    finally:
        JOB_LAST_RUN.labels(job.name).set(now.timestamp())
        async with ctx.db.transaction() as conn:
            await conn.execute(
                "UPDATE bus.job_runs SET finished_at = now(), rows = $3, error = $4 WHERE job = $1 AND tick = $2",
                job.name,
                tick,
                rows,
                error,
            )


class JobRunner:
    def __init__(self, ctx: Any, jobs: Sequence[Job]) -> None:
        self._ctx = ctx
        self._jobs = list(jobs)
        self._scheduler = AsyncIOScheduler(job_defaults={"coalesce": True, "max_instances": 1}, timezone=UTC)
        self._running: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        if not self._jobs:
            return
        for job in self._jobs:
            self._scheduler.add_job(
                self._guarded,
                IntervalTrigger(seconds=job.every_s, start_date=EPOCH, timezone=UTC),
                args=[job],
                id=job.name,
                misfire_grace_time=job.every_s,
            )
        self._scheduler.start()

    async def _guarded(self, job: Job) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        try:
            rows = await run_once(self._ctx, job)
            if rows:
                log.info("job %s changed %d rows", job.name, rows)
        except UNAVAILABLE as exc:
            log.warning("job %s skipped: database unavailable (%s)", job.name, exc)
        except Exception:
            log.exception("job %s failed", job.name)

    async def stop(self) -> None:
        """Stop scheduling; a job already running finishes first (shutdown would cancel it)."""
        if not self._scheduler.running:
            return
        self._scheduler.pause()
        if self._running:
            await asyncio.wait(self._running, timeout=STOP_GRACE_S)
        self._scheduler.shutdown(wait=False)
