"""One replica's scheduler, reduced to the part that matters: run a job for a series of ticks.

Run as a process by test_jobs_across_replicas.py, several at once on the same database, as the pods
of one Deployment are. Prints "ready", waits for a line on stdin (so the replicas start together),
runs the ticks and prints how many of them it ran.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta
from types import SimpleNamespace

from shared.db import Database, create_pool
from shared.jobs import Job, run_once, tick_of

EVERY_S = 60


async def record(state: SimpleNamespace, now: datetime) -> int:
    async with state.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO public.job_effects (tick, pid) VALUES ($1, $2)", tick_of(now, EVERY_S), os.getpid()
        )
    await asyncio.sleep(0.005)  # long enough for the other replicas to try the same tick meanwhile
    return 1


async def main(dsn: str, first: datetime, ticks: int) -> None:
    state = SimpleNamespace(db=Database(await create_pool(dsn, min_size=1, max_size=2, timeout_s=10), dsn))
    job = Job("test.replicas", EVERY_S, record)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    ran = 0
    for i in range(ticks):
        if await run_once(state, job, first + timedelta(seconds=i * EVERY_S)) is not None:
            ran += 1
    await state.db.close()
    print(ran, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], datetime.fromisoformat(sys.argv[2]), int(sys.argv[3])))
