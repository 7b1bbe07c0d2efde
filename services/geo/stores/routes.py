"""Stores, zones and beacons over HTTP: the admin sets them up; anyone with a token reads a store and
its zones (a store manager only its own stores'), the admin, marketers and the other services the lists
and the counts of devices per zone (docs/api-guide.md, "Operator roles")."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, put
from litestar.params import JSONBody, Parameter

from services.geo.context import GeoContext
from services.geo.stores import service
from services.geo.zones.schemas import (
    BeaconOut,
    BeaconPut,
    Store,
    StoreList,
    StoreOccupancy,
    StorePut,
    ZoneOut,
    ZonePut,
)
from shared.auth import SERVICE_READS, Caller
from shared.context import FromContext
from shared.errors import Invalid, errors
from shared.openapi import exactly_one_of
from shared.wire import PathId, QueryId


@get("/v1/stores", opt={SERVICE_READS: ("notify",)})
async def list_stores(
    principal: Caller,
    ctx: FromContext[GeoContext],
    after: QueryId = None,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
) -> StoreList:
    """The stores by id, a page at a time (`after` is the `next_after` of the page before), for the
    operator's console; a store manager's, only their own stores."""
    principal.require_trusted("marketer", "store_manager")
    only = principal.stores if principal.role == "store_manager" else None
    return await service.list_stores(ctx, after, limit, only)


@put("/v1/stores/{store_id:str}")
async def put_store(
    store_id: PathId, data: JSONBody[StorePut], principal: Caller, ctx: FromContext[GeoContext]
) -> Store:
    """Create or update a store; its time zone defaults from its location."""
    principal.require_admin()
    return await service.put_store(ctx, store_id, data)


@get("/v1/stores/{store_id:str}", opt={SERVICE_READS: ("notify",)})
async def get_store(store_id: PathId, principal: Caller, ctx: FromContext[GeoContext]) -> Store:
    principal.limit_operators("marketer", "store_manager", store_id=store_id)
    return await service.get_store(ctx, store_id)


@put("/v1/stores/{store_id:str}/zones/{zone_id:str}", opt=exactly_one_of("circle", "polygon"))
async def put_zone(
    store_id: PathId,
    zone_id: PathId,
    data: JSONBody[ZonePut],
    principal: Caller,
    ctx: FromContext[GeoContext],
) -> ZoneOut:
    """Create or replace a zone. This process's index has it before the answer leaves; the other geo
    processes get it through LISTEN/NOTIFY within moments."""
    principal.require_admin()
    if (data.circle is None) == (data.polygon is None):
        raise Invalid('give exactly one of "circle" or "polygon"', field="circle")
    return await service.put_zone(ctx, store_id, zone_id, data)


@get("/v1/stores/{store_id:str}/zones", opt={SERVICE_READS: ("notify",)})
async def list_zones(store_id: PathId, principal: Caller, ctx: FromContext[GeoContext]) -> list[ZoneOut]:
    principal.limit_operators("marketer", "store_manager", store_id=store_id)
    return await service.list_zones(ctx, store_id)


@get("/v1/stores/{store_id:str}/occupancy", opt={SERVICE_READS: ("notify",)})
async def store_occupancy(store_id: PathId, principal: Caller, ctx: FromContext[GeoContext]) -> StoreOccupancy:
    """How many devices are in each zone of the store now (its open visits): counts, never a device or
    a position. For the operator, marketers, and notify's console."""
    principal.require_trusted("marketer")
    return await service.occupancy(ctx, store_id)


@delete("/v1/stores/{store_id:str}/zones/{zone_id:str}")
async def delete_zone(store_id: PathId, zone_id: PathId, principal: Caller, ctx: FromContext[GeoContext]) -> None:
    """Deleting a zone closes its open visits: everyone inside gets an exit, nobody stays forever."""
    principal.require_admin()
    await service.delete_zone(ctx, store_id, zone_id)


@put(
    "/v1/stores/{store_id:str}/beacons/{beacon_id:str}",
    responses=errors(409),
    opt=exactly_one_of("ibeacon", "eddystone"),
)
async def put_beacon(
    store_id: PathId,
    beacon_id: PathId,
    data: JSONBody[BeaconPut],
    principal: Caller,
    ctx: FromContext[GeoContext],
) -> BeaconOut:
    principal.require_admin()
    if (data.ibeacon is None) == (data.eddystone is None):
        raise Invalid('give exactly one of "ibeacon" or "eddystone"', field="ibeacon")
    return await service.put_beacon(ctx, store_id, beacon_id, data)


@get("/v1/stores/{store_id:str}/beacons", opt={SERVICE_READS: ("notify",)})
async def list_beacons(store_id: PathId, principal: Caller, ctx: FromContext[GeoContext]) -> list[BeaconOut]:
    """The store's beacons by id, each with the zone it marks (the console shows them)."""
    principal.require_trusted("marketer")
    return await service.list_beacons(ctx, store_id)


@delete("/v1/stores/{store_id:str}/beacons/{beacon_id:str}")
async def delete_beacon(store_id: PathId, beacon_id: PathId, principal: Caller, ctx: FromContext[GeoContext]) -> None:
    principal.require_admin()
    await service.delete_beacon(ctx, store_id, beacon_id)


ROUTES = [
    list_stores,
    put_store,
    get_store,
    put_zone,
    list_zones,
    store_occupancy,
    delete_zone,
    put_beacon,
    list_beacons,
    delete_beacon,
]
