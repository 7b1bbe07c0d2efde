"""POST /v1/pings from a phone's app, answered in front of Litestar when it needs nothing else.

Applying a fix costs geo little; what Litestar does around every request (its middleware stack, the
routing, the handler's arguments, the response) was about 40 % of geo's CPU on single fixes: 161-171
µs of CPU a request through Litestar, 96-98 µs here. So the common upload is answered here: a device's
valid token, a JSON body that decodes into its fixes, at most MAX_BATCH of them, and no Origin (a
browser's request wants CORS answers). Every other request goes to the Litestar route as it came (the
body read so far handed on with it), and so does an upload whose ingest fails, the failure with it:
the route raises it, and the errors, logs and metrics are the app's own.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.types import (
    HTTPRequestEvent,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from services.geo.devices import service
from services.geo.devices.routes import FAILED_IN_FRONT, MAX_BATCH
from services.geo.devices.schemas import PingBatch
from shared.app import MAX_BODY_BYTES
from shared.auth import CALL, CALLER, Principal
from shared.errors import ApiError
from shared.metrics import RouteMetrics

PATH = "/v1/pings"
JSON = b"application/json"


class IngestFront:
    """The geo service's ASGI app: this route's common case, then the Litestar app for the rest."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self._decoder = msgspec.json.Decoder(PingBatch, strict=True)
        self._encoder = msgspec.json.Encoder()
        self._metrics = RouteMetrics("accueil_geo", "POST", PATH)

    @property
    def state(self) -> State:
        return self.app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        token = _plain_upload(scope["headers"])
        if token is None:
            await self.app(scope, receive, send)
            return
        chunks, complete = await _read_body(receive)
        body = b"".join(chunks)
        rest = _replay(body, complete, receive)
        principal = self._device(token)
        within = complete and len(body) <= MAX_BODY_BYTES  # else the app's 413 (or the client is gone)
        batch = self._decoded(body) if principal is not None and within else None
        if principal is None or batch is None:
            await self.app(scope, rest, send)
            return
        await self._ingest(scope, principal, batch, rest, send)

    def _device(self, token: str) -> Principal | None:
        """The device whose valid token this is; None for anything else (the app says why)."""
        state = self.app.state
        try:
            principal: Principal = state.signer.verify(token)
        except ApiError:
            return None
        if principal.role != "device" or state.revocations.is_revoked(principal):
            return None
        return principal

    def _decoded(self, body: bytes) -> PingBatch | None:
        """The fixes, when the body decodes strictly as the route's would and needs no other check."""
        if not body.strip() or b"\\u0000" in body:
            return None  # an empty body, or text the app must look into
        try:
            batch: PingBatch = self._decoder.decode(body)
        except Exception:  # refused, or only a second reading accepts it: the app's to answer
            return None
        return batch if len(batch.pings) <= MAX_BATCH else None

    async def _ingest(self, scope: Scope, principal: Principal, batch: PingBatch, rest: Receive, send: Send) -> None:
        metrics = self._metrics
        metrics.running.inc()
        start = time.perf_counter()
        caller, call = CALLER.set(principal), CALL.set(f"POST {PATH}")
        try:
            result = await service.ingest(self.app.state.ctx, service.Upload(principal.subject, pings=batch.pings))
        except Exception as exc:
            failed: Exception | None = exc
        else:
            failed = None
        finally:
            CALL.reset(call)
            CALLER.reset(caller)
            metrics.running.dec()
        if failed is not None:  # the app answers it, and counts it, as a request of its own
            scope[FAILED_IN_FRONT] = failed  # type: ignore[literal-required]
            await self.app(scope, rest, send)
            return
        payload = self._encoder.encode(result)
        headers = [
            (b"content-type", JSON),
            (b"content-length", str(len(payload)).encode()),
            (b"x-content-type-options", b"nosniff"),
        ]
        start_message: HTTPResponseStartEvent = {"type": "http.response.start", "status": 200, "headers": headers}
        body_message: HTTPResponseBodyEvent = {"type": "http.response.body", "body": payload, "more_body": False}
        await send(start_message)
        await send(body_message)
        metrics.record(time.perf_counter() - start)


def _plain_upload(headers: Any) -> str | None:
    """The bearer token of a request this front may answer: a JSON body, no Origin; else None."""
    token = None
    typed = False
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer":
                return None
        elif name == b"content-type":
            typed = value == JSON
        elif name == b"origin":
            return None
    token = token.strip() if token else None
    return token if typed and token else None


async def _read_body(receive: Receive) -> tuple[list[bytes], bool]:
    """The body's chunks, until it ends or passes the limit; and whether that was all of it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return chunks, False  # the client went away: the app hears it
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return chunks, True
        if size > MAX_BODY_BYTES:
            return chunks, False


def _replay(body: bytes, complete: bool, receive: Receive) -> Callable[[], Awaitable[ReceiveMessage]]:
    """The request's messages for the app: what was read, then whatever the client sends next."""
    sent = False

    async def again() -> ReceiveMessage:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        read: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": not complete}
        return read

    return again
