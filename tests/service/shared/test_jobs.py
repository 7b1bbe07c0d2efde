"""Scheduled jobs on PostgreSQL: replicas firing the same tick run it once (the ticks alone:
tests/unit/shared/test_jobs.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import asyncpg

from shared.db import Database, create_pool
from shared.jobs import Job, run_once


async def test_two_replicas_firing_the_same_tick_run_the_job_once(db: asyncpg.Connection, db_url: str) -> None:
    runs: list[str] = []

    async def work(state: SimpleNamespace, now: datetime) -> int:
        runs.append(state.name)
        await asyncio.sleep(0.05)
        return 3

    job = Job("test.purge", 60, work)
    pools = [await create_pool(db_url, min_size=1, max_size=2, timeout_s=5) for _ in range(2)]
    replicas = [SimpleNamespace(db=Database(p, db_url), name=f"r{i}") for i, p in enumerate(pools)]
    try:
        now = datetime.now(UTC)
        results = await asyncio.gather(*(run_once(r, job, now) for r in replicas))
        assert sorted(results, key=str) == [3, None] and len(runs) == 1
        row = await db.fetchrow(
            "SELECT rows, finished_at IS NOT NULL AS done FROM bus.job_runs WHERE job = $1", job.name
        )
        assert row["rows"] == 3 and row["done"]
        assert await run_once(replicas[1], job, now + timedelta(seconds=60)) == 3  # the next tick runs again
    finally:
        for p in pools:
            await p.close()
