"""A dedicated LISTEN connection that survives the database going away.

Pooled connections cannot LISTEN (a notification would reach whichever request holds the connection).
Each use (the bus worker's wake-ups, geo's zone index, revoked tokens, notify's sender and staff
streams) keeps one of these. Every `on_connect` callback runs after each (re)connection, once the
channels are listened to: whatever was announced while nobody listened is read back from the tables,
and nothing announced after that read can be missed.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from shared.db import UNAVAILABLE, connect

log = logging.getLogger("accueil.listener")

RECONNECT_S = 1.0


class Listener:
    def __init__(
        self,
        dsn: str,
        channels: Mapping[str, Callable[[str], None]],
        on_connect: Sequence[Callable[[], Awaitable[None] | None]] = (),
        name: str = "listen",
    ) -> None:
        self._dsn = dsn
        self._channels = dict(channels)
        self._on_connect = list(on_connect)
        self._name = name
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        """Set once the first connection listens and its on_connect callbacks have run."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _dispatch(self, _conn: object, _pid: int, channel: str, payload: object) -> None:
        try:
            self._channels[channel](str(payload))  # a notification's payload is always text
        except Exception:  # one bad payload must not stop the others
            log.exception("listener handler for %s failed", channel)

    async def _run(self) -> None:
        while True:
            conn = None
            try:
                conn = await connect(self._dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, done=lost: done.set())
                for channel in self._channels:
                    await conn.add_listener(channel, self._dispatch)
                for catch_up in self._on_connect:
                    result = catch_up()
                    if inspect.isawaitable(result):
                        await result
                self.connected.set()
                await lost.wait()
            except UNAVAILABLE as exc:
                log.info("%s lost its connection (%s); reconnecting", self._name, exc)
            finally:
                if conn is not None and not conn.is_closed():
                    await conn.close(timeout=2)
            await asyncio.sleep(RECONNECT_S)
