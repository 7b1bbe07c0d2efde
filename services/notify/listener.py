"""notify's one dedicated LISTEN connection per process (beside the bus's): it wakes this replica's
sender when a message falls due, and feeds every staff alert stream open on this replica.

Pooled connections cannot LISTEN (a notification would reach whichever request holds the connection),
and a connection per open stream would not scale with tablets. After a reconnection every handler's
`on_connect` runs: whatever was announced while nobody listened is read back from the tables.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence

from shared.db import UNAVAILABLE, connect

log = logging.getLogger("accueil.notify.listener")

RECONNECT_S = 1.0


class Listener:
    def __init__(
        self,
        dsn: str,
        channels: Mapping[str, Callable[[str], None]],
        on_connect: Sequence[Callable[[], None]] = (),
    ) -> None:
        self._dsn = dsn
        self._channels = dict(channels)
        self._on_connect = list(on_connect)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notify-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _dispatch(self, _conn: object, _pid: int, channel: str, payload: str) -> None:
        try:
            self._channels[channel](payload)
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
                    catch_up()
                await lost.wait()
            except UNAVAILABLE as exc:
                log.info("notify listener lost its connection (%s); reconnecting", exc)
            finally:
                if conn is not None and not conn.is_closed():
                    await conn.close(timeout=2)
            await asyncio.sleep(RECONNECT_S)
