"""Calling another accueil service over HTTP with this service's own token."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from shared.context import Context


class PeerError(Exception):
    """The other service could not give an answer (down, timed out, or failed)."""


async def get_json(ctx: Context, service: str, path: str, **params: str) -> tuple[int, Any]:
    """GET a peer's resource: (status, body) for 2xx and 404; anything else raises PeerError.
    Never call it inside a transaction: ask first, then open the transaction."""
    url = f"{ctx.settings.url_of(service).rstrip('/')}{path}"
    try:
        response = await ctx.http.get(
            url, params=params or None, headers={"Authorization": f"Bearer {ctx.service_tokens.current()}"}
        )
    except httpx.HTTPError as exc:
        raise PeerError(f"{service} unreachable: {exc!r}") from exc
    if response.status_code == 404:
        return 404, None
    if not response.is_success:
        raise PeerError(f"{service} answered {response.status_code} for {path}")
    return response.status_code, response.json()
