"""geo's privacy endpoints: a device's data, and the notice."""

from __future__ import annotations

from litestar import get
from litestar.openapi import ResponseSpec
from litestar.response import Stream

from services.geo.context import GeoContext
from services.geo.privacy import service
from services.geo.privacy.schemas import DeviceData, PrivacyNotice
from shared.auth import SERVICE_READS, Caller
from shared.context import FromContext
from shared.json_stream import json_stream
from shared.wire import PathId


@get(
    "/v1/devices/{device_id:str}/data",
    opt={SERVICE_READS: ("notify",)},  # the shopper's export, gathered by notify
    responses={200: ResponseSpec(data_container=DeviceData, description="Everything geo holds about the device")},
)
async def device_data(device_id: PathId, principal: Caller, ctx: FromContext[GeoContext]) -> Stream:
    """Everything geo holds about the device (the shopper's export gathers it through notify). Written
    as it is read: a day of a device's pings is never in memory at once."""
    principal.require_device(device_id)
    return await json_stream(service.device_data(ctx, device_id))


@get("/v1/privacy", exclude_from_auth=True)
async def privacy(ctx: FromContext[GeoContext]) -> PrivacyNotice:
    return service.notice(ctx)


ROUTES = [device_data, privacy]
