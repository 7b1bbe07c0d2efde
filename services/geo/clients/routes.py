"""Real location clients posting in their own formats: the OwnTracks app, background-geolocation SDKs."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.params import JSONBody

from services.geo.clients import owntracks, service
from services.geo.clients.background_geolocation import SdkSync
from services.geo.clients.basic_auth import device_of_basic
from services.geo.clients.waypoints import SetWaypoints
from services.geo.context import GeoContext
from services.geo.devices.routes import MAX_BATCH, device_of_token
from services.geo.devices.schemas import IngestResult
from shared.auth import Caller
from shared.context import FromContext
from shared.errors import TooLarge, errors
from shared.openapi import raw_body


@post(
    "/v1/clients/owntracks",
    status_code=200,
    exclude_from_auth=True,
    security=[{"basic": []}],
    responses=errors(429),
    opt=raw_body({"application/json": owntracks.MESSAGE_SCHEMA}, required=False),
)
async def post_owntracks(request: Request[Any, Any, Any], ctx: FromContext[GeoContext]) -> list[SetWaypoints]:
    """One OwnTracks message (HTTP mode; Basic auth: user = device id, password = its token). The answer
    is what the app should do: `setWaypoints` with the store zones near it when they changed, else []."""
    device_id = device_of_basic(ctx, request.headers.get("authorization", ""))
    message = owntracks.parse(await request.body())
    return await service.owntracks_message(ctx, device_id, message)


@post("/v1/clients/background-geolocation", status_code=200, responses=errors(429))
async def post_background_geolocation(
    data: JSONBody[SdkSync], principal: Caller, ctx: FromContext[GeoContext]
) -> IngestResult:
    """The background-geolocation SDKs' HTTP sync (one location, or a batch): answered as /v1/pings."""
    device_id = device_of_token(principal)
    if isinstance(data.location, list) and len(data.location) > MAX_BATCH:
        raise TooLarge(f"at most {MAX_BATCH} locations per batch", field="location")
    return await service.sdk_sync(ctx, device_id, data)


ROUTES = [post_owntracks, post_background_geolocation]
