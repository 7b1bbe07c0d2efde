"""The local push service of the tests (tests/support/push_service.py), in a process of its own, that
says when each push arrived: for benchmarks that time a push from outside notify.

    python bench/push_receiver.py

It speaks JSON lines on its standard input and output:

- it first prints {"kind": "ready", "host": "127.0.0.1:<port>"};
- to {"subscribe": <applicationServerKey>, "count": n} it answers n lines
  {"kind": "subscription", "subscription": <PushSubscription.toJSON()>};
- for each push it accepts (VAPID checked, body decrypted) it prints {"kind": "push", "endpoint", "id"
  (the message's id in the payload), "mono" and "wall"}: time.monotonic() and time.time() taken as
  the request reached the handler, before it was checked. CLOCK_MONOTONIC is one clock for every
  process on the machine, so "mono" compares with a time taken in another process.

It ends when its standard input closes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec  # noqa: E402
from aiohttp import web  # noqa: E402

from tests.support.push_service import LocalPushService  # noqa: E402


class TimedPushService(LocalPushService):
    def _say(self, line: dict[str, object]) -> None:
        sys.stdout.buffer.write(msgspec.json.encode(line) + b"\n")
        sys.stdout.buffer.flush()

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        mono, wall = time.monotonic(), time.time()
        answer = await super()._receive(request)
        if answer.status == 201:
            token = request.match_info["token"]
            [push] = [p for p in self.pushes if p.token == token][-1:]
            self._say(
                {
                    "kind": "push",
                    "endpoint": f"{self.origin}/push/{token}",
                    "id": push.payload["id"],
                    "mono": mono,
                    "wall": wall,
                }
            )
        return answer


async def main() -> None:
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    async with TimedPushService() as push:
        push._say({"kind": "ready", "host": push.host})
        while line := await commands.readline():
            command = msgspec.json.decode(line)
            for _ in range(command["count"]):
                push._say(
                    {"kind": "subscription", "subscription": push.subscriber(command["subscribe"]).subscription()}
                )
        if push.refused:
            print(f"push receiver refused {len(push.refused)} pushes, e.g. {push.refused[0]}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
