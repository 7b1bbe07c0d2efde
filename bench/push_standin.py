"""The Web Push stand-in of the tests (tests/support/push_service.py) in a process of its own, for
bench/notify.py: what it costs to take each push is then not counted against the sender.

It checks each push as the tests' stand-in does (VAPID JWT, TTL, aes128gcm) and answers at once, as
a push service does; decrypting, which is the browser's part (a push service cannot read a push), is
done for every push when the bench asks what was received, after its clock has stopped.

    python bench/push_standin.py      # prints its host:port on the first line, serves until stopped

Beside the push service's own route, it answers the bench:

    POST /bench/subscribers {"server_key": ..., "count": n}   n new subscriptions (what browsers hand over)
    GET  /bench/received                                      what it took: pushes, messages, twice, refused
    GET  /bench/arrivals                                      when each endpoint's first push taken arrived
    POST /bench/clear                                         forget the pushes taken so far

An arrival is time.monotonic() and time.time() as the request reached the handler, before it was
checked: CLOCK_MONOTONIC is one clock for every process on the machine, so it compares with a time
another process took. `StandIn` starts it and makes those calls.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import uvloop  # noqa: E402
from aiohttp import web  # noqa: E402

from services.notify.push.channel import Target  # noqa: E402
from tests.support.push_service import LocalPushService, Refused, Subscriber  # noqa: E402


class BenchPushService(LocalPushService):
    def __init__(self) -> None:
        super().__init__()
        self._sealed: list[tuple[Subscriber, bytes]] = []
        self._arrivals: dict[str, dict[str, float]] = {}  # by endpoint: the first push taken

    def opened(self, sub: Subscriber, body: bytes) -> dict[str, Any]:
        """Kept sealed until the bench asks: a placeholder naming it stands for the payload."""
        self._sealed.append((sub, body))
        return {"sealed": len(self._sealed) - 1}

    def _open_all(self) -> list[str]:
        """Decrypt every push taken so far; what could not be."""
        failed = []
        for push in self.pushes:
            if "sealed" in push.payload:
                try:
                    push.payload = super().opened(*self._sealed[push.payload["sealed"]])
                except Refused as exc:
                    failed.append(str(exc))
        return failed

    def application(self) -> web.Application:
        app = super().application()
        app.router.add_post("/bench/subscribers", self._new_subscribers)
        app.router.add_get("/bench/received", self._what_was_received)
        app.router.add_get("/bench/arrivals", self._when_they_arrived)
        app.router.add_post("/bench/clear", self._forget_pushes)
        return app

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        mono, wall = time.monotonic(), time.time()
        answer = await super()._receive(request)
        if answer.status == 201:
            self._arrivals.setdefault(f"{self.origin}/push/{request.match_info['token']}", {"mono": mono, "wall": wall})
        return answer

    async def _when_they_arrived(self, _: web.Request) -> web.Response:
        return web.json_response(self._arrivals)

    async def _new_subscribers(self, request: web.Request) -> web.Response:
        asked = await request.json()
        subs = [self.subscriber(asked["server_key"]).subscription() for _ in range(int(asked["count"]))]
        return web.json_response(subs)

    async def _what_was_received(self, _: web.Request) -> web.Response:
        undecryptable = self._open_all()
        per_message = Counter(p.payload.get("id") for p in self.pushes)
        return web.json_response(
            {
                "pushes": len(self.pushes),
                "messages": len(per_message),
                "twice": sum(c - 1 for c in per_message.values() if c > 1),
                "refused": len(self.refused) + len(undecryptable),
                "refusals": (self.refused + undecryptable)[:3],
            }
        )

    async def _forget_pushes(self, _: web.Request) -> web.Response:
        self.pushes.clear()
        self.refused.clear()
        self._sealed.clear()
        self._arrivals.clear()
        return web.Response(status=204)


class StandIn:
    """This stand-in, started in a process of its own, and the bench's calls to it."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.host = self.proc.stdout.readline().strip()
        self.http = httpx.AsyncClient(base_url=f"http://{self.host}", timeout=60)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def subscriptions(self, server_key: str, count: int) -> list[dict[str, Any]]:
        r = await self.http.post("/bench/subscribers", json={"server_key": server_key, "count": count})
        r.raise_for_status()
        return r.json()

    async def targets(self, server_key: str, count: int) -> list[Target]:
        """Push targets of `count` new subscribers, for the VAPID key `server_key`."""
        return [
            Target("webpush", s["endpoint"], s["keys"]["p256dh"], s["keys"]["auth"])
            for s in await self.subscriptions(server_key, count)
        ]

    async def received(self) -> dict[str, Any]:
        r = await self.http.get("/bench/received")
        r.raise_for_status()
        return r.json()

    async def arrivals(self) -> dict[str, dict[str, float]]:
        """By endpoint, when its first push taken arrived: {"mono", "wall"}."""
        r = await self.http.get("/bench/arrivals")
        r.raise_for_status()
        return r.json()

    async def clear(self) -> None:
        (await self.http.post("/bench/clear")).raise_for_status()

    async def close(self) -> None:
        await self.http.aclose()
        self.proc.terminate()
        self.proc.wait()


async def serve() -> None:
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with BenchPushService() as service:
        print(service.host, flush=True)
        await stop.wait()


if __name__ == "__main__":
    uvloop.run(serve())
