"""Export, erasure and the privacy notice."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Request, Response, delete, get
from litestar.openapi import ResponseSpec
from litestar.params import FromQuery
from litestar.response import Stream

from services.notify.context import NotifyContext
from services.notify.privacy import page, service
from services.notify.privacy.schemas import Erasure, Export, PrivacyNotice
from shared.auth import Caller
from shared.context import FromContext
from shared.errors import errors
from shared.json_stream import json_stream
from shared.pages import PAGE_HEADERS, page_file
from shared.wire import PathId


@delete(
    "/v1/devices/{device_id:str}",
    status_code=202,
    responses={200: ResponseSpec(Erasure, description="Asked again: the erasure under way or done")},
)
async def erase_device(device_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> Response[Erasure]:
    """Erase the device everywhere. notify's own part is done before this answers, and the token is
    refused from then on; geo and inventory confirm on the bus (also after an outage: the request
    waits for them). Asking again answers the same request."""
    principal.require_device(device_id)
    answer, new = await service.erase(ctx, device_id)
    return Response(answer, status_code=202 if new else 200)


@get("/v1/erasures/{erasure_id:str}", exclude_from_auth=True)
async def erasure_status(erasure_id: PathId, ctx: FromContext[NotifyContext]) -> Erasure:
    """Public by its unguessable id: the erased device's token no longer works, yet its owner may
    follow the request until every service has confirmed."""
    return await service.erasure_status(ctx, erasure_id)


@get(
    "/v1/devices/{device_id:str}/export",
    responses={200: ResponseSpec(data_container=Export, description="All data held about the device")} | errors(502),
)
async def export(device_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> Stream:
    """All data held about the device, from the three services, in one document (written as it is
    gathered: geo's part, a day of fixes, is never held whole)."""
    principal.require_device(device_id)
    return await json_stream(service.export(ctx, device_id))


@get("/v1/privacy", exclude_from_auth=True)
async def privacy_notice(
    ctx: FromContext[NotifyContext], lang: FromQuery[Literal["en", "fr"] | None] = None
) -> PrivacyNotice:
    """What is collected, for which purpose, kept how long: from each service's running settings."""
    return await service.privacy_notice(ctx, lang)


@get("/privacy", exclude_from_auth=True, include_in_schema=False)
async def privacy_page(
    request: Request[Any, Any, Any], ctx: FromContext[NotifyContext], lang: FromQuery[Literal["en", "fr"] | None] = None
) -> Response[str]:
    """The notice as a page a person reads, in the browser's language (French or English) unless
    `lang` says which: the same document as GET /v1/privacy."""
    chosen = page.language_of(request.headers.get("accept-language"), lang)
    document = msgspec.to_builtins(await service.privacy_notice(ctx, chosen))
    headers = {**PAGE_HEADERS, "Content-Language": chosen, "Vary": "Accept-Language"}
    return Response(page.render(document, chosen), media_type="text/html; charset=utf-8", headers=headers)


@get("/privacy/privacy.css", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def privacy_css() -> Response[bytes]:
    return page_file(__package__, "privacy.css", "text/css")


ROUTES = [erase_device, erasure_status, export, privacy_notice, privacy_page, privacy_css]
