"""Devices and their consents."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post, put
from litestar.params import JSONBody

from services.notify.consent import receipts, service
from services.notify.consent.schemas import ConsentPut, Consents, DeviceCreate, DeviceCreated
from services.notify.context import NotifyContext
from shared.auth import Caller
from shared.clients import client_address
from shared.context import FromContext
from shared.errors import errors
from shared.wire import Cursor, PathId


@post("/v1/devices", exclude_from_auth=True, status_code=201, responses=errors(429))
async def register_device(
    data: JSONBody[DeviceCreate], request: Request[Any, Any, Any], ctx: FromContext[NotifyContext]
) -> DeviceCreated:
    """Anyone may register a device (a budget per client address); the token returned is the only way
    to act on it."""
    address = client_address(request.scope, ctx.settings.trusted_proxies)
    return await service.register_device(ctx, data, address)


@post("/v1/devices/{device_id:str}/token", status_code=200, responses=errors(401, 403, 404))
async def rotate_token(device_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> DeviceCreated:
    """A fresh token for the device, with its expiry; the token the call was made with is refused by
    every service within seconds. A token is traded once: a second rotation with it is 401."""
    return await service.rotate_token(ctx, principal, device_id)


@put("/v1/devices/{device_id:str}/consents", responses=errors(429))
async def put_consents(
    device_id: PathId,
    data: JSONBody[ConsentPut],
    principal: Caller,
    request: Request[Any, Any, Any],
    ctx: FromContext[NotifyContext],
) -> Consents:
    """Record the answer with its proof and tell the other services, in one transaction: a ping sent
    after this call returns is judged by the new answer. At most `ACCUEIL_CONSENT_CHANGES_PER_HOUR`
    changes an hour (429 beyond), but an answer that only takes back a yes is always heard."""
    principal.require_device(device_id)
    user_agent = (request.headers.get("user-agent") or "")[:300] or None
    return await service.answer_consents(ctx, device_id, data, user_agent)


@get("/v1/devices/{device_id:str}/consents")
async def get_consents(
    device_id: PathId,
    principal: Caller,
    ctx: FromContext[NotifyContext],
    after: Cursor = 0,
) -> Consents:
    """The current answers and their history with proof, oldest first (`after` pages on)."""
    principal.require_device(device_id)
    return await service.consents_of(ctx, device_id, after)


@get("/.well-known/jwks.json", exclude_from_auth=True, cache=300)
async def receipt_keys(ctx: FromContext[NotifyContext]) -> dict[str, list[dict[str, str]]]:
    """The public keys consent receipts are signed with (JWK Set, RFC 7517): every key version up to
    the current one, so a receipt kept from before a rotation still verifies."""
    return receipts.jwks(ctx.settings.token_key, ctx.settings.token_key_version)


ROUTES = [register_device, rotate_token, put_consents, get_consents, receipt_keys]
