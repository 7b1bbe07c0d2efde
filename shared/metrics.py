"""Request metrics for Prometheus, with the series of Litestar's Prometheus plugin (same names, same
labels: method, path, status_code, app_name), so dashboards built on either read both.

Our own middleware rather than the plugin's because the plugin builds a Request and looks up four
label children on every request, a measurable part of the cost of a single-ping upload; here each
label set's children are looked up once and kept.
"""

from __future__ import annotations

import time
from typing import Any, cast

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from prometheus_client import Counter, Gauge, Histogram

_LABELS = ("method", "path", "status_code", "app_name")
REQUESTS = Counter("litestar_requests_total", "Total requests", _LABELS)
DURATION = Histogram("litestar_request_duration_seconds", "Request duration, in seconds", _LABELS)
IN_PROGRESS = Gauge("litestar_requests_in_progress", "Total requests currently in progress", _LABELS)
ERRORS = Counter("litestar_requests_error_total", "Total errors in requests", _LABELS)


class RequestMetrics(ASGIMiddleware):
    """Counts and times every HTTP request by route template (never the raw path: ids in paths would
    make a series per store or device). Put it first, so requests refused by later middleware (a
    missing token) are counted too."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, app_name: str) -> None:
        self.app_name = app_name
        self._done: dict[tuple[str, str, int], tuple[Any, Any, Any | None]] = {}
        self._running: dict[tuple[str, str], Any] = {}

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        method = cast("HTTPScope", scope)["method"]  # `scopes`: HTTP only
        path = scope.get("path_template") or scope["path"]
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        running = self._running.get((method, path))
        if running is None:
            running = self._running[(method, path)] = IN_PROGRESS.labels(method, path, 200, self.app_name)
        running.inc()
        start = time.perf_counter()
        try:
            await next_app(scope, receive, send_noting_status)
        except Exception as exc:
            # Refused by a middleware after this one (a missing token): the app's exception handlers,
            # outside, answer with the error's status (ours: `status`; Litestar's: `status_code`).
            status = getattr(exc, "status", 0) or getattr(exc, "status_code", 500)
            raise
        finally:
            running.dec()
            self._record(method, path, status, time.perf_counter() - start)

    def _record(self, method: str, path: str, status: int, seconds: float) -> None:
        children = self._done.get((method, path, status))
        if children is None:
            labels = (method, path, status, self.app_name)
            error = ERRORS.labels(*labels) if status >= 500 else None
            children = self._done[(method, path, status)] = (REQUESTS.labels(*labels), DURATION.labels(*labels), error)
        requests, duration, error = children
        requests.inc()
        duration.observe(seconds)
        if error is not None:
            error.inc()


class RouteMetrics:
    """The same series for one route answered outside the middleware (an ASGI app in front of
    Litestar, see ServiceSpec.front): its successes, timed and counted as RequestMetrics would."""

    def __init__(self, app_name: str, method: str, path: str) -> None:
        labels = (method, path, 200, app_name)
        self.running = IN_PROGRESS.labels(method, path, 200, app_name)
        self._requests, self._duration = REQUESTS.labels(*labels), DURATION.labels(*labels)

    def record(self, seconds: float) -> None:
        self._requests.inc()
        self._duration.observe(seconds)
