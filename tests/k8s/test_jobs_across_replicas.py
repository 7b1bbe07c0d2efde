"""Scheduled jobs with several replicas: every pod schedules every job, and each tick still runs once
cluster-wide (shared/jobs.py: the first replica to insert (job, tick) into bus.job_runs runs it)."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

ROOT = Path(__file__).parents[2]
REPLICAS = 3
TICKS = 40


async def start_replica(db_url: str, first: datetime) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tests.k8s.job_replica", db_url, first.isoformat(), str(TICKS)],
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert await asyncio.wait_for(proc.stdout.readline(), timeout=30) == b"ready\n"
    return proc


async def test_replicas_racing_for_the_same_ticks_run_each_tick_exactly_once(
    db: asyncpg.Connection, db_url: str
) -> None:
    await db.execute("CREATE TABLE public.job_effects (tick timestamptz NOT NULL, pid int NOT NULL)")
    first = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    replicas = [await start_replica(db_url, first) for _ in range(REPLICAS)]
    try:
        outputs = await asyncio.wait_for(
            asyncio.gather(*(proc.communicate(b"go\n") for proc in replicas)),  # all at once
            timeout=60,
        )
    finally:
        for proc in replicas:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert [proc.returncode for proc in replicas] == [0] * REPLICAS
    ran = [int(out) for out, _ in outputs]
    print("ticks run per replica:", ran)
    assert sum(ran) == TICKS

    per_tick = await db.fetch("SELECT tick, count(*) AS runs FROM public.job_effects GROUP BY tick")
    assert len(per_tick) == TICKS and {r["runs"] for r in per_tick} == {1}
    claims = await db.fetch("SELECT tick, finished_at FROM bus.job_runs WHERE job = 'test.replicas'")
    assert {c["tick"] for c in claims} == {r["tick"] for r in per_tick}
    assert all(c["finished_at"] is not None for c in claims)
