"""A bounded window of sends in flight: the sender claims the next batch while the last one is still
out at the push services, and never holds more than the window at once.

Each send runs as a task of its own; an error one lets escape (a bug: a send answers, it does not
raise) is logged, never lost with its task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any


class InFlight:
    def __init__(self, size: int, log: logging.Logger) -> None:
        self._size = size
        self._log = log
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._tasks)

    async def room_for(self, n: int) -> None:
        """Until `n` more sends fit in the window."""
        while len(self._tasks) + n > self._size:
            self._changed.clear()
            await self._changed.wait()

    def start(self, send: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(send)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    async def finish(self, timeout_s: float) -> bool:
        """Until every send in flight has ended (True), or the time is up: those still out are then
        cancelled (False)."""
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        return not pending

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._changed.set()
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._log.error("a send ended with an error", exc_info=exc)
