"""A small HTTP/2-over-TLS server on the `h2` library, for the APNs and FCM stand-ins.

Why not an ASGI server: hypercorn ends every answer with an empty DATA frame, which a client that
reads each DATA frame as a JSON document (aioapns) takes for a broken connection; and a general server
spends more per request than a stand-in that must keep up with a sender pushing thousands a second.

What it does: ALPN `h2` (and HTTP/1.1 through h11, for clients such as `requests` that speak nothing
else, unless told `http1=False`; a client offering no ALPN is known by HTTP/2's preface), up to 1000
concurrent streams per connection, flow control both ways (received data acknowledged; an answer
larger than the client's window waits for its WINDOW_UPDATE), and a write every few dozen answers
rather than one per answer. A headers-only answer when the body is empty, as Apple's and Google's
servers do. The handler is called once a request's body is complete; it may answer at once (a plain
function, the fast path) or later (a coroutine function).

Its CPU per request is a third of h2 used plainly (see LeanConnection, send_answer_headers and
tests/support/h2_hpack.py): a stand-in shares the machine's two cores with the sender measured.
"""

from __future__ import annotations

import asyncio
import ssl
import traceback
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import cast

import h11
from h2.config import H2Configuration
from h2.connection import ConnectionInputs, H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset, WindowUpdated
from h2.exceptions import H2Error
from h2.settings import SettingCodes, Settings
from h2.stream import StreamInputs

from tests.support.h2_hpack import LeanDecoder, PlainEncoder


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names; pseudo-headers (":authority", ":scheme") included over HTTP/2
    body: bytes
    http_version: str = "2"  # "2" or "1.1"
    connection: int = 0  # which connection it came on: 1 for the server's first, and so on


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[[Request], Response | Awaitable[Response]]

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_CONCURRENT_STREAMS = 1000
# A receive window large enough that a client with many streams in flight is rarely held up waiting
# for a WINDOW_UPDATE (bodies here are a few hundred bytes to 4 KB).
RECEIVE_WINDOW = 1 << 20

# A client sending hundreds of requests in one write gets the first answers while the rest are being
# read, rather than all of them at the end: the client works on answers while this side works on
# requests, instead of each waiting for the other.
FLUSH_EVERY = 32


def lean_config(client_side: bool) -> H2Configuration:
    """Validation and normalisation cost a large share of h2's time per request; a stand-in reads only
    the headers it checks, and writes only well-formed ones (and so does the bench's bare client)."""
    return H2Configuration(
        client_side=client_side,
        header_encoding=None,
        validate_inbound_headers=False,
        normalize_inbound_headers=False,
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
    )


class LeanConnection(H2Connection):
    """An H2Connection that counts its open streams cheaply (the bench's bare client uses it too)."""

    def _open_streams(self, remainder: int) -> int:
        """h2 counts open streams by walking every stream it holds, closed ones included, each time a
        stream opens: with hundreds in flight that walk was a third of the work per request. The size
        of that table is an upper bound of the count; below the limit (the peer's for the streams this
        side opens, ours for the peer's) it decides the same, and the walk (which also drops closed
        streams) runs only once the table reaches it."""
        outbound = remainder == int(self.config.client_side)
        limit = (self.remote_settings if outbound else self.local_settings).max_concurrent_streams
        held = len(self.streams)
        return held if held < limit else super()._open_streams(remainder)


class _ServerConnection(LeanConnection):
    def send_answer_headers(self, stream_id: int, fields: list[tuple[bytes, bytes]], end_stream: bool) -> None:
        """send_headers for an answer, at a third of its cost: the same state transitions (the
        connection's, then the stream's, which raise as h2's would), then one HEADERS frame written
        as bytes rather than built from frame objects after three passes over the fields. The encoder
        is the stateless PlainEncoder, so encoding first changes nothing if a transition refuses."""
        block = self.encoder.encode(fields)
        stream = self.streams.get(stream_id)
        if stream is None or len(block) > self.max_outbound_frame_size:  # gone, or CONTINUATION frames
            self.send_headers(stream_id, fields, end_stream=end_stream)
            return
        self.state_machine.process_input(ConnectionInputs.SEND_HEADERS)
        stream.state_machine.process_input(StreamInputs.SEND_HEADERS)
        flags = END_HEADERS
        if end_stream:
            stream.state_machine.process_input(StreamInputs.SEND_END_STREAM)
            flags |= END_STREAM
        self._data_to_send += len(block).to_bytes(3) + HEADERS_TYPE + bytes((flags,)) + stream_id.to_bytes(4) + block


# HTTP/2 frame header fields (RFC 9113 6.2) of the HEADERS frames written by send_answer_headers.
HEADERS_TYPE = b"\x01"
END_STREAM = 0x1
END_HEADERS = 0x4


class H2Server:
    """`async with H2Server(handler, context) as server:` serves on `server.port` until the block ends."""

    def __init__(
        self, handler: Handler, context: ssl.SSLContext, host: str = "127.0.0.1", port: int = 0, http1: bool = True
    ) -> None:
        self.handler = handler
        self.context = context
        self.http1 = http1  # False: a connection that does not speak HTTP/2 is closed
        self.bind_host = host
        self.bind_port = port
        self.connections = 0  # accepted since start
        self.port = 0
        self._server: asyncio.Server | None = None
        self._open: set[_Connection] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), self.bind_host, self.bind_port, ssl=self.context, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for conn in list(self._open):
            conn.close()
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> H2Server:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


class _Connection(asyncio.Protocol):
    """One accepted connection. ALPN says how it is spoken; a client that offered none (aioapns's default
    SSL context, which Apple serves all the same) is known by its first bytes: HTTP/2's preface or not."""

    def __init__(self, server: H2Server) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.speaker: _H2 | _H1 | None = None
        self.first_bytes = b""
        self.number = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's TLS transport is not a subclass
        self.server.connections += 1
        self.number = self.server.connections
        self.server._open.add(self)
        ssl_object = transport.get_extra_info("ssl_object")
        alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        if alpn is not None:
            self.speak(alpn == "h2")

    def speak(self, http2: bool) -> None:
        assert self.transport is not None
        if http2:
            self.speaker = _H2(self.server.handler, self.transport, self.number)
        elif self.server.http1:
            self.speaker = _H1(self.server.handler, self.transport, self.number)
        else:
            self.transport.close()  # HTTP/2 only, as APNs

    def data_received(self, data: bytes) -> None:
        if self.speaker is None:
            if self.transport is None or self.transport.is_closing():
                return
            self.first_bytes += data
            if len(self.first_bytes) < len(H2_PREFACE) and H2_PREFACE.startswith(self.first_bytes):
                return
            data, self.first_bytes = self.first_bytes, b""
            self.speak(data.startswith(H2_PREFACE))
            if self.speaker is None:
                return
        self.speaker.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._open.discard(self)
        if self.speaker is not None:
            self.speaker.lost()

    def close(self) -> None:
        if self.speaker is not None:
            self.speaker.goodbye()
        if self.transport is not None:
            self.transport.close()


class _H2:
    def __init__(self, handler: Handler, transport: asyncio.Transport, number: int) -> None:
        self.handler = handler
        self.transport = transport
        self.number = number
        self.conn = _ServerConnection(config=lean_config(client_side=False))
        self.conn.encoder = PlainEncoder()
        self.conn.decoder = LeanDecoder(self.conn.decoder)
        # In force from the first frame: they are what the first SETTINGS frame announces.
        self.conn.local_settings = Settings(
            client=False,
            initial_values={
                SettingCodes.MAX_CONCURRENT_STREAMS: MAX_CONCURRENT_STREAMS,
                SettingCodes.INITIAL_WINDOW_SIZE: RECEIVE_WINDOW,
                SettingCodes.MAX_HEADER_LIST_SIZE: 1 << 16,
            },
        )
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(RECEIVE_WINDOW - 65535)  # the connection's own window
        self.requests: dict[int, tuple[list[tuple[bytes, bytes]], list[bytes]]] = {}
        self.unsent: dict[int, bytes] = {}  # answers' bodies waiting for the client's window
        self.tasks: set[asyncio.Task[None]] = set()
        self.closed = False
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.closed:
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except H2Error:
            self.flush()  # the GOAWAY h2 prepared
            self.transport.close()
            return
        answered = 0
        for event in events:
            if isinstance(event, DataReceived):
                request = self.requests.get(event.stream_id)
                if request is not None:
                    request[1].append(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, RequestReceived):
                self.requests[event.stream_id] = (event.headers, [])
            elif isinstance(event, StreamEnded):
                self.dispatch(event.stream_id)
                answered += 1
                if answered % FLUSH_EVERY == 0:
                    self.flush()
            elif isinstance(event, WindowUpdated):
                self.send_unsent()
            elif isinstance(event, StreamReset):
                self.requests.pop(event.stream_id, None)
                self.unsent.pop(event.stream_id, None)
            elif isinstance(event, ConnectionTerminated):
                self.flush()
                self.transport.close()
                return
        self.flush()

    def dispatch(self, stream_id: int) -> None:
        raw_headers, chunks = self.requests.pop(stream_id)
        headers = {name.decode(): value.decode() for name, value in raw_headers}
        method, path = headers.get(":method", ""), headers.get(":path", "")
        request = Request(method, path, headers, b"".join(chunks), "2", self.number)
        answer = _call(self.handler, request)
        if isinstance(answer, Response):
            self.respond(stream_id, answer)
            return
        task = asyncio.ensure_future(_settle(answer))
        self.tasks.add(task)
        task.add_done_callback(lambda done: self.answered(stream_id, done))

    def answered(self, stream_id: int, task: asyncio.Task[Response]) -> None:
        self.tasks.discard(task)  # type: ignore[arg-type]
        if self.closed or task.cancelled():
            return
        error = task.exception()
        self.respond(stream_id, Response(500) if error is not None else task.result())
        self.flush()

    def respond(self, stream_id: int, answer: Response) -> None:
        head = [(b":status", str(answer.status).encode())]
        head += [(name.encode(), value.encode()) for name, value in answer.headers.items()]
        if answer.body:
            head.append((b"content-length", str(len(answer.body)).encode()))
        try:
            self.conn.send_answer_headers(stream_id, head, end_stream=not answer.body)
        except H2Error:
            return  # the client reset the stream meanwhile
        if answer.body:
            self.unsent[stream_id] = answer.body
            self.send_unsent(stream_id)

    def send_unsent(self, only: int | None = None) -> None:
        for stream_id in [only] if only is not None else list(self.unsent):
            body = self.unsent[stream_id]
            try:
                while body:
                    room = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
                    if room <= 0:
                        break
                    chunk, body = body[:room], body[room:]
                    self.conn.send_data(stream_id, chunk, end_stream=not body)
            except H2Error:
                body = b""  # the stream is gone
            if body:
                self.unsent[stream_id] = body
            else:
                del self.unsent[stream_id]

    def goodbye(self) -> None:
        if not self.closed:
            self.conn.close_connection()
            self.flush()

    def lost(self) -> None:
        self.closed = True
        for task in list(self.tasks):
            task.cancel()


def _call(handler: Handler, request: Request) -> Response | Awaitable[Response]:
    """The handler's answer. A stand-in's own failure is printed, for the test's output, and answered 500."""
    try:
        return handler(request)
    except Exception:
        traceback.print_exc()
        return Response(500)


async def _settle(answer: Awaitable[Response]) -> Response:
    try:
        return await answer
    except Exception:
        traceback.print_exc()
        return Response(500)


class _H1:
    """HTTP/1.1 with keep-alive, one request at a time, for clients that offer no h2."""

    def __init__(self, handler: Handler, transport: asyncio.Transport, number: int) -> None:
        self.handler = handler
        self.transport = transport
        self.number = number
        self.conn = h11.Connection(h11.SERVER)
        self.request: h11.Request | None = None
        self.chunks: list[bytes] = []
        self.task: asyncio.Task[Response] | None = None

    def data_received(self, data: bytes) -> None:
        self.conn.receive_data(data)
        self.read()

    def read(self) -> None:
        while self.task is None:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError:
                try:
                    self.send(Response(400, {"connection": "close"}))
                except h11.LocalProtocolError:
                    pass  # too late for an answer: just close
                self.transport.close()
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self.request, self.chunks = event, []
            elif isinstance(event, h11.Data):
                self.chunks.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self.dispatch()
            elif isinstance(event, h11.ConnectionClosed):
                self.transport.close()
                return

    def dispatch(self) -> None:
        assert self.request is not None
        headers = {name.decode(): value.decode() for name, value in self.request.headers}
        request = Request(
            self.request.method.decode(),
            self.request.target.decode(),
            headers,
            b"".join(self.chunks),
            "1.1",
            self.number,
        )
        answer = _call(self.handler, request)
        if isinstance(answer, Response):
            self.finish(answer)
            return
        self.task = asyncio.ensure_future(_settle(answer))
        self.task.add_done_callback(self.answered)

    def answered(self, task: asyncio.Task[Response]) -> None:
        self.task = None
        if task.cancelled():
            return
        self.finish(Response(500) if task.exception() is not None else task.result())
        self.read()

    def finish(self, answer: Response) -> None:
        self.send(answer)
        if self.conn.our_state is h11.MUST_CLOSE or self.conn.their_state is h11.MUST_CLOSE:
            self.transport.close()
        elif self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()

    def send(self, answer: Response) -> None:
        head: Iterable[tuple[str, str]] = [*answer.headers.items(), ("content-length", str(len(answer.body)))]
        out = self.conn.send(h11.Response(status_code=answer.status, headers=list(head)))
        if answer.body:
            out = (out or b"") + (self.conn.send(h11.Data(data=answer.body)) or b"")
        out = (out or b"") + (self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.write(out)

    def goodbye(self) -> None:
        pass

    def lost(self) -> None:
        if self.task is not None:
            self.task.cancel()
