"""A bare HTTP/2 server over TLS whose connection-level behaviour a test sets: how many streams it
allows, how small its flow-control windows are, when it refuses a stream, sends GOAWAY or cuts the
connection. It answers every request by `answer` (by default 200 and the request's body back)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset, WindowUpdated
from h2.exceptions import H2Error
from h2.settings import SettingCodes, Settings
from hyperframe.frame import GoAwayFrame


@dataclass
class Request:
    headers: dict[bytes, bytes]
    body: bytes = b""


Reply = tuple[int, list[tuple[bytes, bytes]], bytes]


async def echo(request: Request) -> Reply:
    return 200, [], request.body


@dataclass
class Http2Peer:
    tls: ssl.SSLContext
    answer: Callable[[Request], Awaitable[Reply]] = echo
    max_concurrent_streams: int = 100
    initial_window_size: int = 65_535
    refuse_first: int = 0
    """The first this many streams (of the whole server) are reset with REFUSED_STREAM, unprocessed."""
    goaway_after: int | None = None
    """On the first connection, after this many requests, GOAWAY naming the last of them as the last
    processed: the streams above it are left unprocessed."""
    drop_after: int | None = None
    """On the first connection, the request after this many cuts the connection without a word."""
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    most_in_flight: int = 0
    resets: int = 0
    _in_flight: int = 0
    _refused: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    async def __aenter__(self) -> Http2Peer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        first = self.connections == 1
        try:
            await self._connection(reader, writer, first)
        except (ConnectionError, ssl.SSLError, H2Error, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.transport.abort()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bool) -> None:
        conn = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        conn.local_settings = Settings(
            client=False,
            initial_values={
                SettingCodes.MAX_CONCURRENT_STREAMS: self.max_concurrent_streams,
                SettingCodes.INITIAL_WINDOW_SIZE: self.initial_window_size,
            },
        )
        conn.initiate_connection()
        if self.initial_window_size > 65_535:  # the connection's window too, as a big server would
            conn.increment_flow_control_window(self.initial_window_size)
        writer.write(conn.data_to_send())
        streams: dict[int, Request] = {}
        unsent: dict[int, bytes] = {}
        answering: set[asyncio.Task[None]] = set()
        seen, last_processed = 0, None

        def send_unsent() -> None:
            for stream_id, data in list(unsent.items()):
                while data:
                    size = min(conn.local_flow_control_window(stream_id), conn.max_outbound_frame_size, len(data))
                    if size <= 0:
                        break
                    conn.send_data(stream_id, data[:size], end_stream=size == len(data))
                    data = data[size:]
                if data:
                    unsent[stream_id] = data
                else:
                    del unsent[stream_id]
                    self._in_flight -= 1

        async def respond(stream_id: int, request: Request) -> None:
            status, headers, body = await self.answer(request)
            try:
                conn.send_headers(stream_id, [(b":status", str(status).encode()), *headers], end_stream=not body)
            except H2Error:  # reset by the client meanwhile
                self._in_flight -= 1
                return
            if body:
                unsent[stream_id] = body
                send_unsent()
            else:
                self._in_flight -= 1
            writer.write(conn.data_to_send())

        while data := await reader.read(65_536):
            for event in conn.receive_data(data):
                if isinstance(event, RequestReceived):
                    streams[event.stream_id] = Request(dict(event.headers))  # type: ignore[arg-type]
                elif isinstance(event, DataReceived):
                    streams[event.stream_id].body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, StreamEnded):
                    request = streams.pop(event.stream_id)
                    if last_processed is not None and event.stream_id > last_processed:
                        continue  # after GOAWAY: never processed, as promised
                    if self._refused < self.refuse_first:
                        self._refused += 1
                        conn.reset_stream(event.stream_id, ErrorCodes.REFUSED_STREAM)
                        continue
                    seen += 1
                    if first and self.drop_after is not None and seen > self.drop_after:
                        writer.transport.abort()
                        return
                    self.requests.append(request)
                    self._in_flight += 1
                    self.most_in_flight = max(self.most_in_flight, self._in_flight)
                    task = asyncio.create_task(respond(event.stream_id, request))
                    answering.add(task)
                    task.add_done_callback(answering.discard)
                    if first and seen == self.goaway_after:
                        last_processed = event.stream_id
                        # Written by hand: h2 would refuse to answer anything once it sent GOAWAY.
                        goaway = GoAwayFrame(0)
                        goaway.last_stream_id = event.stream_id
                        writer.write(conn.data_to_send() + goaway.serialize())
                elif isinstance(event, StreamReset):
                    self.resets += 1
                    streams.pop(event.stream_id, None)
                elif isinstance(event, WindowUpdated):
                    send_unsent()
                elif isinstance(event, ConnectionTerminated):
                    return
            writer.write(conn.data_to_send())
            if last_processed is not None and not answering and not unsent:
                writer.close()
                return
