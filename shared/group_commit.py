"""Group commit: concurrent requests answered from one transaction.

On its own, every small request pays for a whole transaction (BEGIN, its round trips, COMMIT and a WAL
flush), which costs far more than the work it carries. Here, requests that arrive while a group is being
written queue up and go together as the next group; a request that arrives when nothing is in flight
goes at once, alone, so a quiet process adds no delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Runs `run` on groups of submitted items, in arrival order, with up to `writers` groups in flight.

    `run` gets the items of a group and returns one outcome per item, in the same order: a result, or an
    exception for that item alone. If `run` itself raises, every item of the group fails with it.
    Items with the same `key` never share a group nor are written at the same time: each one sees what
    the one before it wrote.
    """

    def __init__(
        self,
        run: Callable[[list[T]], Awaitable[list[R | Exception]]],
        key: Callable[[T], Hashable],
        max_size: int = 64,
        writers: int = 2,
    ) -> None:
        self._run = run
        self._key = key
        self._max_size = max_size
        self._max_writers = writers
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._busy: set[Hashable] = set()  # keys of the groups being written
        self._writers: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, item: T) -> R:
        if self._loop is None:
            # Once: on Python 3.11 asyncio.get_running_loop() makes a system call (getpid, to notice a
            # fork), and once per upload that was 4% of geo's CPU on single pings.
            self._loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = self._loop.create_future()
        self._waiting.append((item, future))
        if len(self._writers) < self._max_writers:
            # Started on the next turn of the loop: requests read in this one join the same group.
            writer = self._loop.create_task(self._write_groups(), name="group-commit")
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        return await future

    def _next_group(self) -> list[tuple[T, asyncio.Future[R]]]:
        group: list[tuple[T, asyncio.Future[R]]] = []
        later: list[tuple[T, asyncio.Future[R]]] = []
        closed = set(self._busy)
        for entry in self._waiting:
            key = self._key(entry[0])
            if key in closed or len(group) == self._max_size:
                later.append(entry)  # keeps its place: a later group takes it first
            else:
                group.append(entry)
            closed.add(key)  # taken or not, its later items wait: a key's items stay in arrival order
        self._waiting = later
        return group

    async def _write_groups(self) -> None:
        while group := self._next_group():
            keys = {self._key(item) for item, _ in group}
            self._busy |= keys
            try:
                outcomes = await self._run([item for item, _ in group])
            except Exception as exc:
                outcomes = [exc] * len(group)
            finally:
                self._busy -= keys
            for (_, future), outcome in zip(group, outcomes, strict=True):
                if future.done():  # the client went away
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
