"""Pickup trips over HTTP: the shopper starts and cancels them, staff follow them."""

from __future__ import annotations

from typing import Annotated

from litestar import get, post
from litestar.params import JSONBody, Parameter

from services.geo.context import GeoContext
from services.geo.devices import progress
from services.geo.devices.routes import device_of_token
from services.geo.devices.schemas import TripOut
from services.geo.devices.trips import service
from services.geo.devices.trips.schemas import TripCreate, TripCreated, TripList
from shared.auth import Caller
from shared.context import FromContext
from shared.errors import errors
from shared.wire import PathId, QueryId

MAX_TRIPS_PAGE = 200
STATUS_FILTERS = ("active", "all", *progress.ACTIVE, *progress.ENDED)


@post("/v1/trips", status_code=201, responses=errors(404, 409, 429, 502))
async def start_trip(data: JSONBody[TripCreate], principal: Caller, ctx: FromContext[GeoContext]) -> TripCreated:
    """ "I'm on my way": for the device's own order at that store. Retrying gives the same trip; a
    device starts at most `ACCUEIL_TRIPS_PER_HOUR` trips an hour."""
    return await service.start_trip(ctx, device_of_token(principal), data)


@get("/v1/trips/{trip_id:str}")
async def get_trip(trip_id: PathId, principal: Caller, ctx: FromContext[GeoContext]) -> TripOut:
    return await service.get_trip(ctx, trip_id, principal)


@post("/v1/trips/{trip_id:str}/cancel", status_code=200, responses=errors(409))
async def cancel_trip(trip_id: PathId, principal: Caller, ctx: FromContext[GeoContext]) -> TripOut:
    """The shopper turned back (or staff call it off): staff stop waiting."""
    return await service.cancel_trip(ctx, trip_id, principal)


@get("/v1/stores/{store_id:str}/trips")
async def store_trips(
    store_id: PathId,
    principal: Caller,
    ctx: FromContext[GeoContext],
    status: Annotated[str, Parameter(schema_extra={"enum": list(STATUS_FILTERS)})] = "active",
    limit: Annotated[int, Parameter(ge=1, le=MAX_TRIPS_PAGE)] = 100,
    before: QueryId = None,
) -> TripList:
    """The store's trips (staff of the store): those under way soonest arrival first (the `limit`
    soonest); ended ones, or `all`, newest first a page at a time (`before` = the page's `next_before`)."""
    principal.require_store(store_id)
    return await service.store_trips(ctx, store_id, status, limit, before)


ROUTES = [start_trip, get_trip, cancel_trip, store_trips]
