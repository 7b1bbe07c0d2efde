"""What phones send, and where a device is, over HTTP."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import JSONBody

from services.geo.context import GeoContext
from services.geo.devices import service
from services.geo.devices.schemas import DeviceContext, IngestResult, PingBatch, SightingBatch
from shared.auth import SERVICE_READS, Caller, Principal
from shared.context import FromContext, context_of
from shared.errors import Forbidden, Invalid, TooLarge, errors
from shared.openapi import exactly_one_of
from shared.wire import PathId

MAX_BATCH = 500
FAILED_IN_FRONT = "accueil.failed_in_front"
"""The scope key under which ingest_front hands over an upload whose ingest failed there: the route
raises the failure, answered as any of its own."""


def device_of_token(principal: Principal) -> str:
    """The device making the call: only a device token says which one it is."""
    if principal.role != "device":
        raise Forbidden("this call is made with a device token")
    return principal.subject


# The two routes every phone calls all the time take the caller and the context from the request
# itself rather than as dependencies: Litestar resolving two dependencies was 6% of geo's CPU on a
# single-ping upload.


@post("/v1/pings", status_code=200, responses=errors(429))
async def post_pings(data: JSONBody[PingBatch], request: Request[Principal, Any, Any]) -> IngestResult:
    """A batch of location fixes, in any order; duplicates are harmless. Events come back in the answer.
    Its common case is answered in front of Litestar (ingest_front); here come the others."""
    if isinstance(failed := request.scope.get(FAILED_IN_FRONT), Exception):
        raise failed
    device_id = device_of_token(request.user)
    if len(data.pings) > MAX_BATCH:
        raise TooLarge(f"at most {MAX_BATCH} pings per batch", field="pings")
    return await service.ingest(context_of(request), service.Upload(device_id, pings=data.pings))


@post(
    "/v1/beacon-sightings",
    status_code=200,
    responses=errors(429),
    opt=exactly_one_of("ibeacon", "eddystone", within="sightings"),
)
async def post_sightings(data: JSONBody[SightingBatch], request: Request[Principal, Any, Any]) -> IngestResult:
    device_id = device_of_token(request.user)
    if len(data.sightings) > MAX_BATCH:
        raise TooLarge(f"at most {MAX_BATCH} sightings per batch", field="sightings")
    for i, s in enumerate(data.sightings):
        if (s.ibeacon is None) == (s.eddystone is None):
            raise Invalid('each sighting has exactly one of "ibeacon" or "eddystone"', field=f"sightings[{i}]")
    return await service.ingest(context_of(request), service.Upload(device_id, sightings=data.sightings))


@get("/v1/devices/{device_id:str}/context", opt={SERVICE_READS: ("notify",)})
async def device_context(device_id: PathId, principal: Caller, ctx: FromContext[GeoContext]) -> DeviceContext:
    """Where the device is now: its stores and zones, dwell so far, its active trip."""
    principal.require_device(device_id)
    return await service.device_context(ctx, device_id)


ROUTES = [post_pings, post_sightings, device_context]
