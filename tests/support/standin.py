"""What the push stand-ins share: an HTTP/2 server on a loopback port, the log of what they were
sent (every request, those delivered, how many were delivered twice), and requests a test wants taken
in and never answered."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Generic, Self, TypeVar

from tests.support.h2_server import H2Server, Response

T = TypeVar("T")


class PushLog(Generic[T]):
    def __init__(self, delivered: Callable[[T], bool], same_message: Callable[[T], Hashable | None]) -> None:
        self.received: list[T] = []
        self.delivered: list[T] = []
        self.duplicates = 0  # a second delivered push of one message to one device
        self._is_delivered = delivered
        self._same_message = same_message
        self._seen: set[Hashable] = set()
        self._progress = asyncio.Event()

    def add(self, item: T) -> None:
        self.received.append(item)
        if self._is_delivered(item):
            self.delivered.append(item)
            key = self._same_message(item)
            if key is not None:
                if key in self._seen:
                    self.duplicates += 1
                self._seen.add(key)
        self._progress.set()

    async def wait_for(self, n: int, timeout: float, describe: Callable[[T], object]) -> list[T]:
        """Once `n` have been delivered: the delivered ones. Else an AssertionError with the last answers."""
        try:
            async with asyncio.timeout(timeout):
                while len(self.delivered) < n:
                    self._progress.clear()
                    await self._progress.wait()
        except TimeoutError:
            last = [describe(item) for item in self.received[-5:]]
            raise AssertionError(f"{len(self.delivered)} of {n} delivered; the last answers: {last}") from None
        return list(self.delivered)

    def stats(self) -> dict[str, int]:
        return {"received": len(self.received), "delivered": len(self.delivered), "duplicates": self.duplicates}


class StandIn(Generic[T]):
    """A push service on `server`, logging into `log`: `async with` serves until the block ends."""

    def __init__(self, server: H2Server, log: PushLog[T]) -> None:
        self.server = server
        self.log = log
        self._hangs: dict[str, int] = {}  # device token -> how many of its next requests go unanswered

    def hang(self, token: str, times: int = 1) -> None:
        """The next `times` requests for `token` that pass the checks are taken in and never answered:
        the sender is left waiting, as one that dies before the answer comes. Logged with status None,
        never delivered."""
        self._hangs[token] = self._hangs.get(token, 0) + times

    def _hung(self, token: str) -> bool:
        """Whether this request for `token` is one to leave unanswered (the stand-in then logs it and
        answers `never_answered()`)."""
        left = self._hangs.get(token, 0)
        if left:
            self._hangs[token] = left - 1
        return bool(left)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def host(self) -> str:
        """For ACCUEIL_PUSH_HOSTS."""
        return f"localhost:{self.port}"

    @property
    def hosts(self) -> list[str]:
        return [self.host]

    @property
    def connections(self) -> int:
        """Connections accepted since the start."""
        return self.server.connections

    @property
    def delivered(self) -> list[T]:
        """The requests answered 200."""
        return self.log.delivered

    @property
    def duplicates(self) -> int:
        return self.log.duplicates

    async def __aenter__(self) -> Self:
        await self.server.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.server.close()


async def never_answered() -> Response:
    """An answer that never comes: the wait ends only when the connection is lost or the server closes
    (the server then cancels it)."""
    await asyncio.Future()
    raise AssertionError("unreachable")
