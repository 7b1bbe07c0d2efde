"""A bare HTTP/2 load client: many streams in flight over one TLS connection, on `h2` directly.

What a push sender at best could do: no retries, no parsing beyond the status, h2 with its header
validation off, and the stand-ins' own HPACK codec (tests/support/h2_hpack.py: no Huffman coding, no
dynamic table on the way out). It is the ceiling notify's senders are read against
(bench/push_standins.py).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from h2.events import ConnectionTerminated, DataReceived, ResponseReceived, StreamEnded, StreamReset

from tests.support.h2_hpack import LeanDecoder, PlainEncoder
from tests.support.h2_server import LeanConnection, lean_config

# (path, headers, body) of the n-th request.
RequestMaker = Callable[[int], tuple[str, list[tuple[bytes, bytes]], bytes]]


@dataclass
class Outcome:
    sent: int = 0
    answered: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


class _Load(asyncio.Protocol):
    def __init__(self, authority: bytes, make: RequestMaker, total: int, in_flight: int, huffman: bool) -> None:
        self.authority = authority
        self.make = make
        self.total = total
        self.in_flight = in_flight
        self.conn = LeanConnection(config=lean_config(client_side=True))
        if not huffman:  # else h2's own encoder: every field indexed, every literal Huffman-coded
            self.conn.encoder = PlainEncoder()
        self.conn.decoder = LeanDecoder(self.conn.decoder)
        self.outcome = Outcome()
        self.done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.next: tuple[str, list[tuple[bytes, bytes]], bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's TLS transport is no subclass
        self.conn.initiate_connection()
        self.fill()
        self.flush()

    def fill(self) -> None:
        """Up to `in_flight` streams open, as far as the server's connection window lets bodies go (it
        is 64 KiB until the server's first WINDOW_UPDATE)."""
        while self.outcome.sent < self.total and self.outcome.sent - self.outcome.answered < self.in_flight:
            if self.next is None:
                self.next = self.make(self.outcome.sent)
            if len(self.next[2]) > self.conn.outbound_flow_control_window:
                return
            self.send(*self.next)
            self.next = None

    def send(self, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        stream_id = self.conn.get_next_available_stream_id()
        head = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", self.authority)]
        head.append((b":path", path.encode()))
        self.conn.send_headers(stream_id, head + headers, end_stream=not body)
        if body:
            self.conn.send_data(stream_id, body, end_stream=True)
        self.outcome.sent += 1

    def flush(self) -> None:
        assert self.transport is not None
        data = self.conn.data_to_send()
        if data:
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        for event in self.conn.receive_data(data):
            if isinstance(event, ResponseReceived):
                self.outcome.statuses[int(dict(event.headers)[b":status"])] += 1
            elif isinstance(event, DataReceived):
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded | StreamReset):
                self.outcome.answered += 1
                if self.outcome.answered == self.total and not self.done.done():
                    self.done.set_result(self.outcome)
            elif isinstance(event, ConnectionTerminated) and not self.done.done():
                self.done.set_exception(ConnectionError(f"GOAWAY {event.error_code}"))
        self.fill()
        self.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_exception(ConnectionError(f"lost after {self.outcome.answered} answers: {exc}"))


async def load(
    url: str, context: ssl.SSLContext, make: RequestMaker, total: int, in_flight: int = 500, huffman: bool = False
) -> Outcome:
    """`total` requests over one connection, `in_flight` at a time; `huffman`: HPACK as h2 encodes it."""
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    transport, protocol = await loop.create_connection(
        lambda: _Load(parts.netloc.encode(), make, total, in_flight, huffman), parts.hostname, parts.port, ssl=context
    )
    try:
        outcome = await protocol.done
    finally:
        transport.close()
    outcome.seconds = time.perf_counter() - started
    return outcome
