"""Other phones' pings, as background load, in a process of its own (its CPU is counted apart from
what it loads): each phone posts a batch of fixes once a period, paced so that together they send the
rate asked for, each on its own keep-alive connection.

    python bench/ping_load.py GEO_URL PINGS_PER_S MAX_SECONDS < tokens

Its first line of input is the phones' device tokens, as a JSON list (they consent to location). Each
phone strolls back and forth 2 to 5 km from the store, in no zone, one fix a second of its own clock:
a batch of 50 fixes covers 50 seconds of it, its clock starts 3 hours ago. Once its connections are
open it prints {"kind": "ready"}; to each further line of input it prints {"kind": "mark", "pings",
"errors", "mono", "p50_ms", "p99_ms"} (pings accepted so far, answers other than 200,
time.monotonic(), and the percentiles of the time geo took to answer since the last mark). It stops when its
input closes, or after MAX_SECONDS whatever happens, and prints a last mark.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec  # noqa: E402

from bench.http_client import Connection  # noqa: E402
from shared.geodesy import destination  # noqa: E402
from tests.support.builders import CENTRE  # noqa: E402

BATCH = 50


class Accepted(msgspec.Struct):
    """What the load reads of geo's answer: how many fixes it took (none refused, if all is well)."""

    accepted: int


class Phone:
    """One phone: where it strolls, its clock, its connection and token."""

    def __init__(self, token: str, rng: random.Random, clock: datetime) -> None:
        self.headers = {"Authorization": f"Bearer {token}"}
        lat, lng = destination(*CENTRE, rng.uniform(0, 360), rng.uniform(2_000, 5_000))
        heading = rng.uniform(0, 360)
        # 1.5 m a fix, there and back: each fix's JSON but its time is written once.
        track = [destination(lat, lng, heading, 1.5 * i) for i in range(BATCH)]
        self._fixes = [f'{{"lat":{a:.7f},"lng":{b:.7f},"accuracy_m":10,"ts":"'.encode() for a, b in track]
        self._clock = clock
        self._forward = True

    def next_body(self) -> bytes:
        fixes = self._fixes if self._forward else self._fixes[::-1]
        self._forward = not self._forward
        parts = []
        for fix in fixes:
            self._clock += timedelta(seconds=1)
            parts.append(fix + self._clock.isoformat().encode() + b'"}')
        return b'{"pings":[' + b",".join(parts) + b"]}"


class Load:
    def __init__(self, url: str, tokens: list[str], pings_per_s: float) -> None:
        rng = random.Random(11)
        start = datetime.now(UTC) - timedelta(hours=3)
        self.url = url
        self.phones = [Phone(t, rng, start) for t in tokens]
        self.period_s = len(self.phones) * BATCH / pings_per_s  # each phone posts once a period
        self.pings = self.errors = 0
        self._answered_in: list[float] = []  # seconds each answer took, since the last mark
        self._stop = asyncio.Event()

    def mark(self) -> None:
        took, self._answered_in = sorted(self._answered_in) or [0.0], []
        line = {
            "kind": "mark",
            "pings": self.pings,
            "errors": self.errors,
            "mono": time.monotonic(),
            "p50_ms": took[len(took) // 2] * 1000,
            "p99_ms": took[min(len(took) - 1, int(0.99 * len(took)))] * 1000,
        }
        sys.stdout.buffer.write(msgspec.json.encode(line) + b"\n")
        sys.stdout.buffer.flush()

    def stop(self) -> None:
        self._stop.set()

    async def _phone(self, phone: Phone, connection: Connection, first_at: float) -> None:
        at = first_at
        while not self._stop.is_set():
            delay = at - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stop.wait(), delay)
                    return
                except TimeoutError:
                    pass
            body = phone.next_body()
            sent = time.monotonic()
            status, answer = await connection.post_json("/v1/pings", body, phone.headers)
            self._answered_in.append(time.monotonic() - sent)
            if status == 200:
                self.pings += msgspec.json.decode(answer, type=Accepted).accepted
            else:
                self.errors += 1
            at += self.period_s  # behind schedule: the next one goes at once, the rate is kept

    async def run(self, max_s: float) -> None:
        connections = [await Connection.open(self.url) for _ in self.phones]
        now = time.monotonic()
        spread = self.period_s / len(self.phones)  # phones take turns evenly through the period
        tasks = [
            asyncio.create_task(self._phone(p, c, now + i * spread))
            for i, (p, c) in enumerate(zip(self.phones, connections, strict=True))
        ]
        print('{"kind": "ready"}', flush=True)
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), max_s)
        except TimeoutError:
            pass
        for connection in connections:
            await connection.close()


async def main(url: str, pings_per_s: float, max_s: float) -> None:
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    tokens = msgspec.json.decode(await commands.readline(), type=list[str])
    load = Load(url, tokens, pings_per_s)

    async def listen() -> None:
        while await commands.readline():
            load.mark()
        load.stop()

    listening = asyncio.create_task(listen())
    await load.run(max_s)
    listening.cancel()
    load.mark()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3])))
