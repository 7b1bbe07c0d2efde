"""Calling another accueil service over HTTP with this service's own token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import msgspec

from shared.errors import BadRequest

if TYPE_CHECKING:
    from shared.context import Context


T = TypeVar("T")


class PeerError(Exception):
    """The other service could not give an answer (down, timed out, or failed). What it says names the
    service and the status, not the path: it is logged, and a path holds ids (a device's) that must
    not outlive an erasure in logs."""


async def get_json(ctx: Context, service: str, path: str, **params: str) -> tuple[int, Any]:
    """GET a peer's resource: (status, body) for 2xx and 404; anything else raises PeerError.
    A path no URL can hold (made from input no id rule let through) is the caller's input: BadRequest.
    Never call it inside a transaction: ask first, then open the transaction."""
    async with get_stream(ctx, service, path, **params) as response:
        if response is None:
            return 404, None
        try:
            await response.aread()
        except httpx.HTTPError as exc:
            raise PeerError(f"{service} broke off its answer: {exc!r}") from exc
        try:
            return response.status_code, response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # a proxy's error page, a truncated body
            raise PeerError(f"{service} answered {response.status_code} with no JSON document") from exc


@asynccontextmanager
async def get_stream(ctx: Context, service: str, path: str, **params: str) -> AsyncIterator[httpx.Response | None]:
    """GET a peer's resource, its body left to read within the block (`aiter_bytes`): an answer too
    big to hold is relayed as it comes. None for a 404; anything but a 2xx raises PeerError. (Errors
    name the service and the status, never the path: it holds ids that outlive an erasure in logs.)"""
    url = f"{ctx.settings.url_of(service).rstrip('/')}{path}"
    try:
        request = ctx.http.build_request(
            "GET", url, params=params or None, headers={"Authorization": f"Bearer {ctx.service_tokens.current()}"}
        )
        response = await ctx.http.send(request, stream=True)
    except httpx.InvalidURL as exc:
        raise BadRequest(f"the request names something {service} cannot be asked about") from exc
    except httpx.HTTPError as exc:
        raise PeerError(f"{service} unreachable: {exc!r}") from exc
    try:
        if response.status_code == 404:
            yield None
        elif not response.is_success:
            raise PeerError(f"{service} answered {response.status_code}")
        else:
            yield response
    finally:
        await response.aclose()


async def get_answer(ctx: Context, service: str, path: str, answer: type[T], **params: str) -> T | None:
    """GET a peer's resource decoded at the edge into `answer` (a msgspec Struct naming the fields the
    caller reads; any others, and those the peer adds later, are ignored); None for a 404. An answer
    that does not decode is the peer failing, like a 5xx: PeerError."""
    status, body = await get_json(ctx, service, path, **params)
    if status == 404:
        return None
    try:
        return msgspec.convert(body, answer)
    except msgspec.ValidationError as exc:
        raise PeerError(f"{service} answered in an unexpected shape: {exc}") from exc
