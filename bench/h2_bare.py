"""The floor a push channel's HTTP/2 client is measured against: the least a client on the `h2`
library can do to send prepared requests over one TLS connection and count the answers.

No timeouts, no GOAWAY or reconnection, no per-request objects beyond h2's own; header validation off;
the peer's stream limit and flow-control windows kept (a request waits for them rather than breaking
the connection). For benchmarks only.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from typing import cast

from h2.connection import H2Connection
from h2.events import RemoteSettingsChanged, ResponseReceived, StreamEnded, StreamReset, WindowUpdated

from services.notify.push.http2 import CONFIG  # the same h2 settings: validation off

Header = tuple[bytes, bytes]


class BareH2(asyncio.Protocol):
    def __init__(self) -> None:
        self.h2 = H2Connection(config=CONFIG)
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.answers: dict[int, asyncio.Future[int]] = {}
        self.statuses: dict[int, int] = {}
        self.room = asyncio.Event()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.h2.initiate_connection()
        self.transport.write(self.h2.data_to_send())

    def data_received(self, data: bytes) -> None:
        for event in self.h2.receive_data(data):
            if isinstance(event, ResponseReceived):
                self.statuses[event.stream_id or 0] = int(dict(event.headers or ())[b":status"])  # type: ignore[arg-type]
            elif isinstance(event, StreamEnded | StreamReset):
                stream_id = event.stream_id or 0
                self.answers.pop(stream_id).set_result(self.statuses.pop(stream_id, 0))
                self.room.set()
            elif isinstance(event, WindowUpdated):
                self.room.set()
            elif isinstance(event, RemoteSettingsChanged) and not self.ready.done():
                self.ready.set_result(None)
        assert self.transport is not None
        self.transport.write(self.h2.data_to_send())

    async def post(self, authority: bytes, path: bytes, headers: Sequence[Header], body: bytes) -> int:
        """One POST; its status."""
        h2 = self.h2
        while len(self.answers) >= h2.remote_settings.max_concurrent_streams or h2.outbound_flow_control_window < len(
            body
        ):
            self.room.clear()
            await self.room.wait()
        stream_id = h2.get_next_available_stream_id()
        block = [(b":method", b"POST"), (b":scheme", b"https"), (b":authority", authority), (b":path", path)]
        h2.send_headers(stream_id, [*block, *headers])
        h2.send_data(stream_id, body, end_stream=True)
        assert self.transport is not None
        self.transport.write(h2.data_to_send())
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.answers[stream_id] = answer
        return await answer


async def connect(host: str, port: int, context: ssl.SSLContext) -> BareH2:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(BareH2, host, port, ssl=context, server_hostname=host)
    await client.ready
    return client
