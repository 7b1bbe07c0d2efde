"""A bare HTTP/2 server over TLS whose connection-level behaviour a test sets: how many streams it
allows, how small its flow-control windows are, when it sends GOAWAY or drops the connection, how long
it takes to answer. It answers every request by `answer` (200 and an echo of the body by default)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset, WindowUpdated
from h2.exceptions import H2Error
from h2.settings import SettingCodes, Settings


@dataclass
class Request:
    headers: dict[bytes, bytes]
    body: bytes = b""


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
Handler = Callable[[Request], Awaitable[Answer]]


async def echo(request: Request) -> Answer:
    return 200, [], request.body


@dataclass
class H2TestServer:
    tls: ssl.SSLContext
    answer: Handler = echo
    max_concurrent_streams: int = 100
    initial_window_size: int = 65_535
    goaway_after: int | None = None
    """After this many requests on a connection, GOAWAY naming the last one as the last processed."""
    drop_after: int | None = None
    """After this many requests on a connection, the connection is cut without a word."""
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    most_in_flight: int = 0
    resets: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _in_flight: int = 0

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    async def __aenter__(self) -> H2TestServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        conn = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        conn.local_settings = Settings(
            client=False,
            initial_values={
                SettingCodes.MAX_CONCURRENT_STREAMS: self.max_concurrent_streams,
                SettingCodes.INITIAL_WINDOW_SIZE: self.initial_window_size,
            },
        )
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        streams: dict[int, Request] = {}
        pending: dict[int, bytes] = {}
        seen = 0
        tasks: set[asyncio.Task[None]] = set()

        def send_pending() -> None:
            for stream_id, data in list(pending.items()):
                size = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size, len(data))
                if size <= 0 and data:
                    continue
                conn.send_data(stream_id, data[:size], end_stream=size == len(data))
                if size == len(data):
                    del pending[stream_id]
                    self._in_flight -= 1
                else:
                    pending[stream_id] = data[size:]

        async def respond(stream_id: int, request: Request) -> None:
            status, headers, body = await self.answer(request)
            try:
                conn.send_headers(stream_id, [(b":status", str(status).encode()), *headers], end_stream=not body)
            except H2Error:
                return
            if body:
                pending[stream_id] = body
                send_pending()
            else:
                self._in_flight -= 1
            writer.write(conn.data_to_send())

        try:
            while data := await reader.read(65_536):
                for event in conn.receive_data(data):
                    if isinstance(event, RequestReceived):
                        streams[event.stream_id] = Request(dict(event.headers))  # type: ignore[arg-type]
                    elif isinstance(event, DataReceived):
                        streams[event.stream_id].body += event.data
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, StreamEnded):
                        request = streams.pop(event.stream_id)
                        self.requests.append(request)
                        seen += 1
                        self._in_flight += 1
                        self.most_in_flight = max(self.most_in_flight, self._in_flight)
                        if self.drop_after is not None and seen > self.drop_after:
                            writer.transport.abort()
                            return
                        task = asyncio.create_task(respond(event.stream_id, request))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                        if self.goaway_after is not None and seen == self.goaway_after:
                            conn.close_connection(last_stream_id=event.stream_id)
                    elif isinstance(event, StreamReset):
                        self.resets += 1
                    elif isinstance(event, WindowUpdated):
                        send_pending()
                    elif isinstance(event, ConnectionTerminated):
                        break
                writer.write(conn.data_to_send())
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            writer.close()
