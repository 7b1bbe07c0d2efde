"""How the benchmarks time work and count the CPU it took, the same way in every script."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The shortest of a few timings, in seconds: what else runs on the machine only ever adds time."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def cpu_s(pids: Iterable[int], *, children: bool = False) -> float:
    """CPU time (user and system) used so far by these processes, and their children's if asked
    (PostgreSQL's backends are its postmaster's children, and those that ended meanwhile count in
    its reaped children's time: else a connection closed during a phase would count negative); a
    process gone meanwhile counts nothing."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            process = psutil.Process(pid)
            family = [process, *process.children(recursive=True)] if children else [process]
            if children:
                reaped = process.cpu_times()
                total += reaped.children_user + reaped.children_system
        except psutil.NoSuchProcess:
            continue
        for proc in family:
            try:
                total += sum(proc.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
    return total
