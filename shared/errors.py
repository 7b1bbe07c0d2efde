"""One error hierarchy for every service, rendered as one JSON shape.

Body of every error answer: {"status": int, "error": short code, "detail": human text, "field"?: which input}.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

log = logging.getLogger("accueil.errors")


class ConfigError(Exception):
    """The configuration cannot work; raised at start-up, never per request."""


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self, detail: str, *, field: str | None = None, headers: dict[str, str] | None = None, **extra: object
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.headers = headers
        self.extra = extra

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"status": self.status, "error": self.code, "detail": self.detail}
        if self.field is not None:
            body["field"] = self.field
        body.update(self.extra)
        return body


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class TooLarge(ApiError):
    status, code = 413, "too_large"


class Invalid(ApiError):
    status, code = 422, "invalid"


class TooManyRequests(ApiError):
    status, code = 429, "too_many_requests"


class BadGateway(ApiError):
    """Another accueil service needed for the answer could not give it; retrying later may work."""

    status, code = 502, "upstream_unavailable"


def _json(body: dict[str, object], status: int, headers: dict[str, str] | None = None) -> Response[dict[str, object]]:
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


def api_error_handler(_: Request[Any, Any, Any], exc: ApiError) -> Response[dict[str, object]]:
    return _json(exc.body(), exc.status, exc.headers)


_FIELD = re.compile(r"at `\$\.?([^`]*)`")
_MISSING = re.compile(r"missing required field `([^`]+)`")


def validation_handler(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, object]]:
    """msgspec refused the body or a parameter: malformed JSON is 400, a valid document with bad values 422."""
    detail = str(exc.detail)
    if "malformed" in detail.lower() or "invalid json" in detail.lower():
        return _json({"status": 400, "error": "malformed", "detail": detail}, 400)
    field = None
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            detail = str(item.get("message", detail))
            field = item.get("key") or field
            break
    if field is None and (m := _FIELD.search(detail)):
        field = m.group(1)
    if missing := _MISSING.search(detail):  # name the missing field, not the object that lacks it
        field = missing.group(1) if field in (None, "data") else f"{field}.{missing.group(1)}"
    body: dict[str, object] = {"status": 422, "error": "invalid", "detail": detail}
    if field:
        body["field"] = field
    return _json(body, 422)


def http_error_handler(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, object]]:
    if isinstance(exc, NotAuthorizedException):
        code = "unauthorized"
    elif isinstance(exc, PermissionDeniedException):
        code = "forbidden"
    else:
        code = re.sub(r"\W+", "_", str(exc.detail).lower()).strip("_")[:40] or "error"
    return _json({"status": exc.status_code, "error": code, "detail": str(exc.detail)}, exc.status_code, exc.headers)


def route_of(request: Request[Any, Any, Any]) -> str:
    """The request's route as declared (`/v1/devices/{device_id}/consents`), for log lines: ids outlive an
    erasure in logs, a route template names no one. A path no route matched is not written at all."""
    return request.scope.get("path_template") or "(no route)"


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, object]]:
    log.exception("unhandled error on %s %s", request.method, route_of(request), exc_info=exc)
    return _json({"status": 500, "error": "internal", "detail": "internal error"}, HTTP_500_INTERNAL_SERVER_ERROR)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ApiError: api_error_handler,
    ValidationException: validation_handler,
    HTTPException: http_error_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
}


def database_unavailable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, object]]:
    """The database went away mid-request: nothing was committed, so the client may safely retry."""
    log.warning("database unavailable on %s %s: %s", request.method, route_of(request), exc)
    return _json(
        {"status": 503, "error": "database_unavailable", "detail": "database unavailable, retry shortly"},
        503,
        {"Retry-After": "1"},
    )


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """The shape of every error answer."""

    status: int
    error: str
    detail: str
    field: str | None = None


ERRORS = {
    400: "Malformed request (e.g. invalid JSON)",
    401: "Missing, invalid, expired or revoked token",
    403: "Valid token, but not allowed to act on this device or store",
    404: "Unknown id (or not visible to this caller)",
    409: "Conflict with the current state (e.g. not enough stock)",
    413: "Body or batch too large",
    415: "Body of a media type this call does not read",
    422: "Well-formed but invalid input; `field` names it",
    429: "Too many requests; see Retry-After",
    502: "Another accueil service needed for the answer is unavailable",
    503: "Database unavailable; see Retry-After",
}
"""Every error status a call may answer, as the OpenAPI documents describe it (shared.openapi lists
on each call those its shape makes possible)."""


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """The error answers a route gives beyond those its shape implies, for its decorator's `responses`:
    `@post("/v1/trips", responses=errors(404, 409, 502))`."""
    return {
        code: ResponseSpec(data_container=ErrorBody, description=ERRORS[code], generate_examples=False)
        for code in codes
    }
