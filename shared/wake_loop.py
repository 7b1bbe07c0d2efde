"""A worker's wake/poll loop: run a round of work, then wait for a wake-up or a time-out, until stopped.

The bus worker and notify's push and webhook senders each do work that a NOTIFY announces (an event
published, a message or delivery fallen due) and that must still be done when no NOTIFY comes (the
listener was reconnecting, a retry time or a lease ran out): each round claims whatever is due, and
a slow poll is the safety net. What is easy to get subtly wrong in such a loop lives here, once:

- the wake-up is cleared before the round, not after: one that arrives while a round works (work
  committed just after its claim query) starts the next round instead of being lost;
- a round that found work is followed at once by the next, so a backlog drains at full speed;
- an error never ends the loop: the database being away is expected (logged at info, no traceback),
  anything else is logged with its traceback, and the loop pauses before trying again;
- stopping claims nothing more (rounds read `stopping`) and lets the round in hand finish within a
  grace period: what it claimed is settled now, not left to a lease that must first run out.

Time goes through a `Clock`, so tests drive the loop with their own instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from shared.db import UNAVAILABLE

ERROR_PAUSE_S = 1.0
MIN_WAIT_S = 0.05

Round = Callable[[], Awaitable[float | None]]
"""One round of work. It returns how long to wait for a wake-up before the next round (it found
nothing to do), or None to start the next one at once (it found work, and there may be more)."""


def until_due(due: datetime | None, now: datetime, poll_s: float) -> float:
    """How long an idle worker waits: until the next item falls due (a retry, a lease that runs out),
    but no longer than the poll interval and never so briefly that it spins on an item due already."""
    if due is None:
        return poll_s
    return min(poll_s, max(MIN_WAIT_S, (due - now).total_seconds()))


class Clock:
    """How the loop waits, in asyncio's time."""

    async def wait(self, wake: asyncio.Event, timeout_s: float) -> None:
        """Until `wake` is set or the time is up, whichever comes first."""
        try:
            await asyncio.wait_for(wake.wait(), timeout=timeout_s)
        except TimeoutError:
            pass

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def join(self, task: asyncio.Task[None], timeout_s: float) -> bool:
        """Until the task ends (True), or the time is up: the task is then cancelled (False)."""
        try:
            await asyncio.wait_for(task, timeout=timeout_s)
        except TimeoutError:
            return False
        return True


class WakeLoop:
    """Runs rounds of `work` in a task of its own, woken by `wake()` (a LISTEN handler, a listener's
    on_connect) and at the latest when the time the round asked for is up.

    `what` names the worker in its log lines ("sender waiting for the database (...)"), which go to
    the worker's own logger."""

    def __init__(self, work: Round, *, name: str, log: logging.Logger, what: str, clock: Clock | None = None) -> None:
        self._work = work
        self._name = name
        self._log = log
        self._what = what
        self._clock = clock or Clock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def stopping(self) -> bool:
        """Set by `stop`: a round claims nothing more, and finishes what it holds."""
        return self._stopping

    def wake(self, *_: object) -> None:
        """Start a round now (or, if one is running, as soon as it ends). Takes and ignores a NOTIFY's
        payload, so it serves as a listener's channel handler as well as its on_connect callback."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self, grace_s: float) -> bool:
        """Claim nothing more and let the round in hand finish; False if it did not within `grace_s`
        (it is then cancelled)."""
        self._stopping = True
        self._wake.set()
        if self._task is None:
            return True
        return await self._clock.join(self._task, grace_s)

    async def step_failed(self, exc: Exception, step: str) -> None:
        """For a round made of independent steps (one per bus consumer) that handles each one's error
        itself, so that one failing step does not hold up the others: log it, then pause. A wake-up does
        not shorten this pause: however often the others are woken, a step that keeps failing is tried
        at most once a second."""
        self._log_failure(exc, f" in {step}")
        await self._clock.sleep(ERROR_PAUSE_S)

    def _log_failure(self, exc: Exception, where: str = "") -> None:
        if isinstance(exc, UNAVAILABLE):
            self._log.info("%s waiting for the database (%s)", self._what, exc)
        else:
            self._log.error("%s error%s", self._what, where, exc_info=exc)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the round: a wake-up during it starts the next one
            try:
                delay = await self._work()
            except Exception as exc:
                self._log_failure(exc)
                delay = ERROR_PAUSE_S  # or until a wake-up: it says there is work again
            if delay is None or self._stopping:
                continue
            await self._clock.wait(self._wake, delay)
