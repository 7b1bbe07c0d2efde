"""shared/wake_loop.py: the loop the bus worker and notify's senders run, driven by a clock in which no time
passes unless the test says so (the workers themselves: tests/service/shared/test_bus.py and the notify
system tests)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shared.wake_loop import ERROR_PAUSE_S, MIN_WAIT_S, Clock, WakeLoop, until_due

LOGGER = "test.wake_loop"
GUARD_S = 5  # only for a broken loop: a test fails instead of hanging


class ManualClock(Clock):
    """Time stands still: a wait ends only on a wake-up (the test's `loop.wake()` stands for the time
    running out too), and every wait and pause is recorded."""

    def __init__(self) -> None:
        self.waits: asyncio.Queue[float] = asyncio.Queue()
        self.pauses: list[float] = []
        self.joining = asyncio.Event()

    async def wait(self, wake: asyncio.Event, timeout_s: float) -> None:
        self.waits.put_nowait(timeout_s)
        await wake.wait()

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)

    async def join(self, task: asyncio.Task[None], timeout_s: float) -> bool:
        self.joining.set()
        return await super().join(task, timeout_s)

    async def next_wait(self) -> float:
        return await asyncio.wait_for(self.waits.get(), GUARD_S)


class Rounds:
    """A round that answers as scripted (a delay, None for "found work", or an error to raise), then
    waits an hour each time; it counts its calls."""

    def __init__(self, *answers: float | None | Exception) -> None:
        self._answers: Iterator[float | None | Exception] = iter(answers)
        self.calls = 0

    async def __call__(self) -> float | None:
        self.calls += 1
        answer = next(self._answers, 3600.0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def loop_of(work: Rounds, clock: Clock) -> WakeLoop:
    return WakeLoop(work, name="test-loop", log=logging.getLogger(LOGGER), what="worker", clock=clock)


async def test_a_round_that_found_work_is_followed_at_once_and_an_idle_one_waits_as_long_as_it_says() -> None:
    clock, rounds = ManualClock(), Rounds(None, None, 0.25)
    loop = loop_of(rounds, clock)
    loop.start()
    assert await clock.next_wait() == 0.25
    assert rounds.calls == 3
    assert clock.waits.empty()
    assert await loop.stop(grace_s=GUARD_S)


async def test_a_wake_up_ends_the_wait_and_starts_the_next_round() -> None:
    clock, rounds = ManualClock(), Rounds()
    loop = loop_of(rounds, clock)
    loop.start()
    assert await clock.next_wait() == 3600
    assert rounds.calls == 1
    loop.wake("a NOTIFY's payload")
    assert await clock.next_wait() == 3600
    assert rounds.calls == 2
    await loop.stop(grace_s=GUARD_S)


async def test_a_wake_up_that_arrives_during_a_round_starts_the_next_one_instead_of_being_lost() -> None:
    clock = ManualClock()
    loop: WakeLoop | None = None
    calls = 0

    async def work() -> float:
        nonlocal calls
        calls += 1
        if calls == 1:
            assert loop is not None
            loop.wake()  # work committed just after this round's claim query
        return 3600

    loop = WakeLoop(work, name="test-loop", log=logging.getLogger(LOGGER), what="worker", clock=clock)
    loop.start()
    assert await clock.next_wait() == 3600  # ends at once: the wake-up is still set
    assert await clock.next_wait() == 3600  # the second round found it cleared, and waits
    assert calls == 2
    await loop.stop(grace_s=GUARD_S)


async def test_an_error_never_ends_the_loop_and_the_database_being_away_is_logged_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock, rounds = ManualClock(), Rounds(ConnectionRefusedError("db down"), RuntimeError("a bug"), 7.0)
    loop = loop_of(rounds, clock)
    loop.start()
    assert await clock.next_wait() == ERROR_PAUSE_S
    loop.wake()  # the pause is a wait: a wake-up says there is work again
    assert await clock.next_wait() == ERROR_PAUSE_S
    loop.wake()
    assert await clock.next_wait() == 7.0
    assert rounds.calls == 3
    logged = [(r.levelno, r.getMessage(), r.exc_info is not None) for r in caplog.records if r.name == LOGGER]
    assert logged == [
        (logging.INFO, "worker waiting for the database (db down)", False),
        (logging.ERROR, "worker error", True),
    ]
    await loop.stop(grace_s=GUARD_S)


async def test_stopping_lets_the_round_in_hand_finish_and_starts_no_other() -> None:
    clock = ManualClock()
    started, release = asyncio.Event(), asyncio.Event()
    saw: list[bool] = []
    loop: WakeLoop | None = None

    async def work() -> None:
        assert loop is not None
        started.set()
        await release.wait()
        saw.append(loop.stopping)  # a round reads it to claim nothing more
        return None  # found work: it would go again at once, were it not stopping

    loop = WakeLoop(work, name="test-loop", log=logging.getLogger(LOGGER), what="worker", clock=clock)
    loop.start()
    await asyncio.wait_for(started.wait(), GUARD_S)
    stopping = asyncio.create_task(loop.stop(grace_s=GUARD_S))
    await asyncio.wait_for(clock.joining.wait(), GUARD_S)
    assert not stopping.done()
    release.set()
    assert await stopping is True
    assert saw == [True]
    assert clock.waits.empty()


async def test_a_round_that_outlasts_the_grace_is_cancelled_and_stop_says_so() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.Event().wait()  # a send that never answers
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop = WakeLoop(work, name="test-loop", log=logging.getLogger(LOGGER), what="worker")
    loop.start()
    await asyncio.wait_for(started.wait(), GUARD_S)
    assert await loop.stop(grace_s=0) is False
    assert cancelled.is_set()


async def test_a_loop_never_started_stops_at_once() -> None:
    assert await loop_of(Rounds(), ManualClock()).stop(grace_s=0) is True


async def test_a_failed_step_is_logged_with_its_name_and_pauses_however_often_the_loop_is_woken(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    clock = ManualClock()
    loop = loop_of(Rounds(), clock)
    loop.wake()
    await loop.step_failed(RuntimeError("a bug"), "test.consumer")
    await loop.step_failed(ConnectionResetError("db gone"), "test.consumer")
    assert clock.pauses == [ERROR_PAUSE_S, ERROR_PAUSE_S]
    assert clock.waits.empty()
    logged = [(r.levelno, r.getMessage(), r.exc_info is not None) for r in caplog.records if r.name == LOGGER]
    assert logged == [
        (logging.ERROR, "worker error in test.consumer", True),
        (logging.INFO, "worker waiting for the database (db gone)", False),
    ]


async def test_the_clock_waits_for_a_wake_up_or_the_time_whichever_comes_first() -> None:
    wake = asyncio.Event()
    await Clock().wait(wake, 0)  # the time is up, and that is no error
    wake.set()
    await asyncio.wait_for(Clock().wait(wake, 3600), GUARD_S)


def test_an_idle_worker_waits_until_the_next_item_falls_due_within_the_poll_interval() -> None:
    now = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    assert until_due(None, now, 2.0) == 2.0
    assert until_due(now + timedelta(seconds=0.5), now, 2.0) == 0.5
    assert until_due(now + timedelta(minutes=5), now, 2.0) == 2.0
    assert until_due(now - timedelta(seconds=3), now, 2.0) == MIN_WAIT_S  # overdue: soon, without spinning
