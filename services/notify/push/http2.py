"""One HTTP/2 connection over TLS per push-service origin, many requests in flight on it (RFC 9113).

APNs and FCM answer thousands of small requests a second over one connection each, so this speaks
HTTP/2 on the `h2` state machine directly: a general-purpose client spends most of its time per
request on things these requests do not need (header validation and normalisation, per-request
objects, one write per frame). Here the requests started in one turn of the event loop leave in one
write, and the answers read in one go are dispatched in one pass.

What the connection keeps to:
- at most the peer's SETTINGS_MAX_CONCURRENT_STREAMS requests in flight; the others wait in turn;
- the peer's flow-control windows for request bodies;
- GOAWAY: the streams the peer says it will process finish; the others, and every later request, go
  out on a new connection;
- a lost connection fails its requests in flight (`NoAnswer`: the peer may have processed them) and
  the next request connects again; so does a connection on which a request timed out without a
  single frame from the peer since it was sent (a peer gone silent, a path cut without a word);
- a request that never left (still waiting for a stream, refused with REFUSED_STREAM, above
  GOAWAY's last stream) is sent again on the new connection.

Egress: the host is resolved by the resolver it is given (PublicOnlyResolver: a public address only,
unless the operator listed the host), and the connection goes to that address, so a name cannot be
re-resolved elsewhere in between. TLS checks the certificate against the context's trust store and
must agree on ALPN `h2`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Sequence
from typing import cast
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    RemoteSettingsChanged,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import H2Error
from h2.settings import SettingCodes, Settings
from hpack import NeverIndexedHeaderTuple
from hyperframe.frame import Frame, GoAwayFrame

from shared.egress import PrivateAddress

Header = tuple[bytes, bytes]

# Headers are built by our own code from checked values: h2's per-header validation and normalisation
# would cost more than the rest of a request.
CONFIG = H2Configuration(
    client_side=True,
    header_encoding=None,
    validate_outbound_headers=False,
    normalize_outbound_headers=False,
    validate_inbound_headers=False,
    normalize_inbound_headers=False,
)
MAX_STREAMS = 1000
"""Our own cap on requests in flight on one connection, whatever the peer allows: h2 counts the open
streams on each new one, so thousands in flight would cost more CPU than they save in waiting."""
RECEIVE_WINDOW = 1 << 20
PRUNE_EVERY = 64
RESENDS = 3
"""How many times a request that never reached the peer goes out again on a new connection."""


class NoAnswer(Exception):
    """No answer: the connection failed, was lost or timed out. The peer may have processed it."""


class Refused(Exception):
    """Our egress rules stopped the request before it left."""


class _Unsent(Exception):
    """The peer never processed this request: it may go out again on another connection."""


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: list[Header], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


class _Stream:
    __slots__ = ("answer", "status", "headers", "chunks", "unsent")

    def __init__(self, answer: asyncio.Future[Response], unsent: bytes) -> None:
        self.answer = answer
        self.status = 0
        self.headers: list[Header] = []
        self.chunks: list[bytes] = []
        self.unsent = unsent
        """The part of the request body the peer's windows have not let out yet."""


class _GracefulH2(H2Connection):
    """h2, where it does not do what a busy client needs. (Overrides of h2's internals: the tests of
    GOAWAY and of the stream limit see them keep working, and h2 is held below its next major
    version.)"""

    _openings = 0

    @property
    def open_outbound_streams(self) -> int:
        """h2 checks the peer's stream limit by counting, and pruning, every stream it holds as each
        new one opens: O(streams in flight) per request, a quarter of a request's CPU with hundreds in
        flight. The number of streams it holds (the closed ones not yet pruned included) is an upper
        bound; the real count is made only near the limit, and every PRUNE_EVERY openings to prune."""
        self._openings += 1
        held = len(self.streams)
        if self._openings % PRUNE_EVERY == 0 or held >= self.remote_settings.max_concurrent_streams:
            return super().open_outbound_streams
        return held

    def _receive_goaway_frame(self, frame: GoAwayFrame) -> tuple[list[Frame], list[Event]]:
        """h2 takes a GOAWAY for the end of the whole connection and refuses every frame after it; RFC
        9113 (6.8) lets the streams up to its last_stream_id finish. So it is only reported here, and
        `_Connection` opens no stream after it."""
        event = ConnectionTerminated()
        event.error_code = frame.error_code
        event.last_stream_id = frame.last_stream_id
        event.additional_data = frame.additional_data or None
        return [], [event]


class _Connection(asyncio.Protocol):
    """One HTTP/2 connection: its streams, the requests waiting for one, the bytes to write."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_streams: int) -> None:
        self._loop = loop
        self._h2 = _GracefulH2(config=CONFIG)
        # Set before the preface: values set on `local_settings` later wait for the peer's ACK.
        self._h2.local_settings = Settings(
            client=True, initial_values={SettingCodes.ENABLE_PUSH: 0, SettingCodes.INITIAL_WINDOW_SIZE: RECEIVE_WINDOW}
        )
        self._cap = max_streams
        self._transport: asyncio.Transport | None = None
        self._streams: dict[int, _Stream] = {}
        self._blocked: dict[int, _Stream] = {}
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._flush_due = False
        self.ready: asyncio.Future[None] = loop.create_future()
        """Done when the peer's first SETTINGS came (or the connection failed before)."""
        self.usable = True
        """False once no new request may start here (GOAWAY, lost, broken)."""
        self.alpn: str | None = None
        self._heard_at = loop.time()

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are no subclass of asyncio.Transport, but are one in all but name.
        self._transport = cast(asyncio.Transport, transport)
        ssl_object = transport.get_extra_info("ssl_object")
        self.alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        self._h2.initiate_connection()
        self._h2.increment_flow_control_window(RECEIVE_WINDOW)
        self._flush()

    def data_received(self, data: bytes) -> None:
        self._heard_at = self._loop.time()
        try:
            events = self._h2.receive_data(data)
        except H2Error as exc:
            self._break(f"protocol error from the peer: {type(exc).__name__}")
            return
        for event in events:
            if isinstance(event, DataReceived):
                stream = self._streams.get(event.stream_id or 0)
                if stream is not None and event.data:
                    stream.chunks.append(event.data)
                self._h2.acknowledge_received_data(event.flow_controlled_length or 0, event.stream_id or 0)
            elif isinstance(event, ResponseReceived):
                stream = self._streams.get(event.stream_id or 0)
                if stream is not None:
                    stream.headers = [(bytes(k), bytes(v)) for k, v in event.headers or ()]
                    stream.status = _status_of(stream.headers)
            elif isinstance(event, StreamEnded):
                self._end(event.stream_id or 0)
            elif isinstance(event, StreamReset):
                self._reset(event.stream_id or 0, event.error_code)
            elif isinstance(event, WindowUpdated):
                self._unblock()
            elif isinstance(event, RemoteSettingsChanged):
                if not self.ready.done():
                    self.ready.set_result(None)
                self._admit()
                self._unblock()
            elif isinstance(event, ConnectionTerminated):
                self._goaway(event.last_stream_id or 0)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._fail_all("the connection was lost")

    # -- requests

    async def request(self, headers: list[Header], body: bytes) -> Response:
        if not self.usable:
            raise _Unsent
        if self._in_flight >= self._limit() or self._waiters:
            await self._wait_turn()
            if not self.usable:  # the connection ended while this request waited
                self._release()
                raise _Unsent
        else:
            self._in_flight += 1
        answer: asyncio.Future[Response] = self._loop.create_future()
        stream = _Stream(answer, body)
        try:
            stream_id = self._h2.get_next_available_stream_id()
            self._h2.send_headers(stream_id, headers, end_stream=not body)
        except H2Error as exc:  # stream ids exhausted, or a state h2 refuses: start afresh elsewhere
            self.usable = False
            self._release()
            raise _Unsent from exc
        self._streams[stream_id] = stream
        if body:
            self._send_body(stream_id, stream)
        if not self._flush_due:
            self._flush_due = True
            self._loop.call_soon(self._flush)
        sent_at = self._loop.time()
        try:
            return await answer
        except asyncio.CancelledError:  # the caller's timeout
            if self._heard_at < sent_at:
                # Not a frame from the peer since this request left: the connection is presumed dead
                # (no PING to tell), and the next request goes out on a new one.
                self._break("no frame from the peer since the request timed out")
            elif self._streams.pop(stream_id, None) is not None:  # a slow stream: free it for the others
                self._blocked.pop(stream_id, None)
                self._cancel(stream_id)
                self._release()
            raise

    def _limit(self) -> int:
        return min(self._cap, self._h2.remote_settings.max_concurrent_streams)

    async def _wait_turn(self) -> None:
        """Wait until a stream is handed over by `_release` (or this connection is done for)."""
        turn: asyncio.Future[None] = self._loop.create_future()
        self._waiters.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                self._release()  # handed a stream just as the caller gave up: pass it on
            raise

    def _release(self) -> None:
        """A stream is free: hand it to the next request waiting, or count it free."""
        while self._waiters:
            turn = self._waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._in_flight -= 1
        if not self.usable:
            self._close_when_idle()

    def _admit(self) -> None:
        """The peer allows more streams now: let that many waiting requests start."""
        while self._waiters and self._in_flight < self._limit():
            turn = self._waiters.popleft()
            if not turn.done():
                self._in_flight += 1
                turn.set_result(None)

    def _send_body(self, stream_id: int, stream: _Stream) -> None:
        h2 = self._h2
        while stream.unsent:
            size = min(h2.local_flow_control_window(stream_id), h2.max_outbound_frame_size, len(stream.unsent))
            if size <= 0:
                self._blocked[stream_id] = stream
                return
            chunk, stream.unsent = stream.unsent[:size], stream.unsent[size:]
            h2.send_data(stream_id, chunk, end_stream=not stream.unsent)
        self._blocked.pop(stream_id, None)

    def _unblock(self) -> None:
        for stream_id, stream in list(self._blocked.items()):
            self._send_body(stream_id, stream)

    def _end(self, stream_id: int) -> None:
        stream = self._streams.pop(stream_id, None)
        if stream is None:
            return
        if stream.unsent:  # the peer answered before taking the whole body: it wants no more of it
            self._blocked.pop(stream_id, None)
            self._cancel(stream_id, ErrorCodes.NO_ERROR)
        if not stream.answer.done():
            stream.answer.set_result(Response(stream.status, stream.headers, b"".join(stream.chunks)))
        self._release()

    def _reset(self, stream_id: int, code: int | None) -> None:
        stream = self._streams.pop(stream_id, None)
        if stream is None:
            return
        self._blocked.pop(stream_id, None)
        if not stream.answer.done():
            if code == ErrorCodes.REFUSED_STREAM:
                stream.answer.set_exception(_Unsent())
            else:
                stream.answer.set_exception(NoAnswer(f"the peer reset the stream ({_code_name(code)})"))
        self._release()

    def _cancel(self, stream_id: int, code: int = ErrorCodes.CANCEL) -> None:
        try:
            self._h2.reset_stream(stream_id, code)
        except H2Error:
            return
        self._schedule_flush()

    def _goaway(self, last_stream_id: int) -> None:
        """The peer processes no stream above `last_stream_id`: those go out again elsewhere."""
        self.usable = False
        for stream_id in [s for s in self._streams if s > last_stream_id]:
            stream = self._streams.pop(stream_id)
            self._blocked.pop(stream_id, None)
            if not stream.answer.done():
                stream.answer.set_exception(_Unsent())
            self._in_flight -= 1
        self._wake_waiters()
        self._close_when_idle()

    def _fail_all(self, why: str) -> None:
        self.usable = False
        if not self.ready.done():
            self.ready.set_exception(NoAnswer(why))
            self.ready.exception()  # retrieved: nobody may be waiting for it
        streams, self._streams = self._streams, {}
        self._blocked.clear()
        self._in_flight -= len(streams)
        for stream in streams.values():
            if not stream.answer.done():
                stream.answer.set_exception(NoAnswer(why))
        self._wake_waiters()

    def _wake_waiters(self) -> None:
        waiters, self._waiters = self._waiters, deque()
        for turn in waiters:
            if not turn.done():
                turn.set_exception(_Unsent())

    def _break(self, why: str) -> None:
        self._fail_all(why)
        if self._transport is not None:
            self._transport.abort()

    def _close_when_idle(self) -> None:
        if not self._streams and self._transport is not None:
            try:
                self._h2.close_connection()
            except H2Error:
                pass
            self._flush()
            self._transport.close()

    def _schedule_flush(self) -> None:
        if not self._flush_due:
            self._flush_due = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_due = False
        data = self._h2.data_to_send()
        if data and self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.usable = False
        if self._transport is not None:
            self._transport.close()


def _status_of(headers: list[Header]) -> int:
    for name, value in headers:
        if name == b":status":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _code_name(code: int | None) -> str:
    if code is None:
        return "no code"
    try:
        return ErrorCodes(code).name
    except ValueError:
        return str(code)


class Http2Origin:
    """Requests to one origin (`https://host[:port]`), over one connection made on first use and made
    again after it is lost or closed by the peer."""

    def __init__(
        self,
        origin: str,
        *,
        ssl_context: ssl.SSLContext,
        resolver: AbstractResolver,
        connect_timeout_s: float = 10.0,
        max_streams: int = MAX_STREAMS,
    ) -> None:
        parts = urlsplit(origin)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(f"not an https origin: {origin}")
        self.origin = origin
        self._host = parts.hostname
        self._port = parts.port or 443
        self._authority = parts.netloc.encode()
        self._ssl = ssl_context
        self._resolver = resolver
        self._connect_timeout_s = connect_timeout_s
        self._max_streams = max_streams
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None
        self._closed = False
        self.connections_made = 0

    async def request(
        self, method: bytes, path: str, headers: Sequence[Header], body: bytes, timeout_s: float
    ) -> Response:
        """One request and its whole answer; `NoAnswer` if none came within `timeout_s` (connecting
        included), `Refused` if the egress rules stop it."""
        # The path differs on every request: kept out of HPACK's table, which stays for the headers
        # every request repeats (the authorization among them).
        block: list[Header] = [
            (b":method", method),
            (b":scheme", b"https"),
            (b":authority", self._authority),
            NeverIndexedHeaderTuple(b":path", path.encode()),
            *headers,
        ]
        try:
            async with asyncio.timeout(timeout_s):
                for _ in range(RESENDS + 1):
                    connection = await self._connected()
                    try:
                        return await connection.request(block, body)
                    except _Unsent:
                        continue
        except TimeoutError:
            raise NoAnswer(f"no answer from {self.origin} within {timeout_s:g} s") from None
        raise NoAnswer(f"{self.origin} kept closing the connection before the request went out")

    async def _connected(self) -> _Connection:
        connection = self._connection
        if connection is not None and connection.usable:
            return connection
        if self._closed:
            raise NoAnswer("the client is closed")
        if self._connecting is None:
            self._connecting = asyncio.create_task(self._connect())
            self._connecting.add_done_callback(self._connected_or_not)
        return await asyncio.shield(self._connecting)

    def _connected_or_not(self, task: asyncio.Task[_Connection]) -> None:
        self._connecting = None
        if not task.cancelled() and task.exception() is None:
            self._connection = task.result()

    async def _connect(self) -> _Connection:
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                return await self._open()
        except TimeoutError:
            raise NoAnswer(f"could not connect to {self.origin} within {self._connect_timeout_s:g} s") from None

    async def _open(self) -> _Connection:
        try:
            addresses = await self._resolver.resolve(self._host, self._port, socket.AF_UNSPEC)
        except PrivateAddress as exc:
            raise Refused(str(exc)) from None
        except OSError as exc:
            raise NoAnswer(f"cannot resolve {self._host}: {exc}") from None
        loop = asyncio.get_running_loop()
        failure: OSError | None = None
        for address in addresses:
            connection = _Connection(loop, self._max_streams)
            try:
                await loop.create_connection(
                    lambda c=connection: c,  # type: ignore[misc]
                    address["host"],
                    address["port"],
                    ssl=self._ssl,
                    server_hostname=self._host,
                )
            except OSError as exc:  # refused, unreachable, TLS (ssl.SSLError is an OSError)
                failure = exc
                continue
            try:
                if connection.alpn != "h2":
                    raise NoAnswer(f"{self.origin} does not speak HTTP/2 (ALPN: {connection.alpn})")
                await connection.ready
            except BaseException:
                connection.close()
                raise
            self.connections_made += 1
            return connection
        raise NoAnswer(f"cannot connect to {self.origin}: {failure}")

    async def close(self) -> None:
        self._closed = True
        if self._connecting is not None:
            self._connecting.cancel()
        if self._connection is not None:
            self._connection.close()
            self._connection = None
