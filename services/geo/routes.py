"""geo's HTTP API (API.md, "geo")."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg
from litestar import delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from timezonefinder import TimezoneFinder

from services.geo import geometry, ingest, trips
from services.geo import repository as repo
from services.geo.context import GeoContext
from services.geo.device_state import DeviceState
from services.geo.schemas import (
    BeaconOut,
    BeaconPut,
    DeviceContext,
    IngestResult,
    PingBatch,
    SightingBatch,
    Store,
    StorePut,
    TripCreate,
    TripCreated,
    TripList,
    TripOut,
    ZoneHere,
    ZoneOut,
    ZonePut,
)
from services.geo.zones import zone_of
from shared import peers
from shared.auth import Caller, Principal
from shared.context import FromContext
from shared.db import Conn
from shared.errors import BadGateway, Conflict, Forbidden, Invalid, NotFound, TooLarge
from shared.events import ZoneExited, ZoneExitedData, ZoneRef
from shared.wire import check_id

MAX_BATCH = 500
_timezones = TimezoneFinder(in_memory=True)


def _require_device_token(principal: Principal) -> str:
    if principal.role != "device":
        raise Forbidden("this call is made with a device token")
    return principal.subject


def _zone_out(row: asyncpg.Record) -> ZoneOut:
    shape = row["shape"]
    return ZoneOut(
        store_id=row["store_id"],
        zone_id=row["zone_id"],
        kind=row["kind"],
        circle=shape.get("circle"),
        polygon=shape.get("polygon"),
        dwell_s=row["dwell_s"],
        name=row["name"],
    )


def _trip_out(row: asyncpg.Record) -> TripOut:
    return TripOut(
        trip_id=row["trip_id"],
        status=row["status"],
        store_id=row["store_id"],
        order_id=row["order_id"],
        mode=row["mode"],
        started_at=row["started_at"],
        display_name=row["display_name"],
        eta_s=row["eta_s"],
        distance_m=row["distance_m"],
        approaching_at=row["approaching_at"],
        arrived_at=row["arrived_at"],
        ended_at=row["ended_at"],
    )


# --- stores, zones, beacons (admin) ---


@put("/v1/stores/{store_id:str}")
async def put_store(store_id: FromPath[str], data: JSONBody[StorePut], conn: Conn, principal: Caller) -> Store:
    """Create or update a store; its time zone defaults from its location."""
    principal.require_admin()
    check_id(store_id, "store_id")
    tz = data.timezone or _timezones.timezone_at(lat=data.lat, lng=data.lng) or "UTC"
    try:
        ZoneInfo(tz)
    except (KeyError, ValueError) as exc:
        raise Invalid(f"unknown time zone {tz!r}: use an IANA name such as Europe/Paris", field="timezone") from exc
    await repo.upsert_store(conn, store_id, data.name, data.lat, data.lng, tz)
    return Store(store_id=store_id, name=data.name, lat=data.lat, lng=data.lng, timezone=tz)


@get("/v1/stores/{store_id:str}")
async def get_store(store_id: FromPath[str], conn: Conn) -> Store:
    row = await repo.get_store(conn, check_id(store_id, "store_id"))
    if row is None:
        raise NotFound(f"unknown store {store_id!r}", field="store_id")
    return Store(**dict(row))


@put("/v1/stores/{store_id:str}/zones/{zone_id:str}")
async def put_zone(
    store_id: FromPath[str],
    zone_id: FromPath[str],
    data: JSONBody[ZonePut],
    principal: Caller,
    ctx: FromContext[GeoContext],
) -> ZoneOut:
    """Create or replace a zone. This process's index has it before the answer leaves; the other geo
    processes get it through LISTEN/NOTIFY within moments."""
    principal.require_admin()
    check_id(store_id, "store_id")
    check_id(zone_id, "zone_id")
    if (data.circle is None) == (data.polygon is None):
        raise Invalid('give exactly one of "circle" or "polygon"', field="circle")
    if data.circle is not None:
        geometry.circle(data.circle.lat, data.circle.lng, data.circle.radius_m)  # validates
        shape = {"circle": {"lat": data.circle.lat, "lng": data.circle.lng, "radius_m": data.circle.radius_m}}
    else:
        shape = {"polygon": geometry.polygon(data.polygon).geojson}
    async with ctx.db.transaction() as conn:
        if await repo.get_store(conn, store_id) is None:
            raise NotFound(f"unknown store {store_id!r}: create it first", field="store_id")
        await repo.upsert_zone(conn, store_id, zone_id, data.kind, data.name, data.dwell_s, shape)
        row = await repo.get_zone(conn, store_id, zone_id)
    ctx.zones.index.put(zone_of(row))
    return _zone_out(row)


@get("/v1/stores/{store_id:str}/zones")
async def list_zones(store_id: FromPath[str], conn: Conn) -> list[ZoneOut]:
    return [_zone_out(r) for r in await repo.zones_of_store(conn, check_id(store_id, "store_id"))]


@delete("/v1/stores/{store_id:str}/zones/{zone_id:str}")
async def delete_zone(
    store_id: FromPath[str], zone_id: FromPath[str], principal: Caller, ctx: FromContext[GeoContext]
) -> None:
    """Deleting a zone closes its open visits: everyone inside gets an exit, nobody stays forever."""
    principal.require_admin()
    check_id(store_id, "store_id")
    check_id(zone_id, "zone_id")
    async with ctx.db.transaction() as conn:
        row = await repo.get_zone(conn, store_id, zone_id)
        if row is None:
            raise NotFound(f"unknown zone {zone_id!r} in store {store_id!r}", field="zone_id")
        zone = zone_of(row)
        closed = await repo.close_visits_of_zone(conn, store_id, zone_id)
        await repo.delete_zone(conn, store_id, zone_id)
        now = datetime.now(UTC)
        for v in closed:
            await repo.log_visits(
                conn, v["device_id"], [(store_id, zone_id, zone.kind, v["via"], v["entered_at"], now)]
            )
        await ctx.publish(
            conn,
            [
                ZoneExited(
                    ts=now,
                    device_id=v["device_id"],
                    store_id=store_id,
                    zone_id=zone_id,
                    data=ZoneExitedData(
                        kind=zone.kind,  # type: ignore[arg-type]
                        entered_at=v["entered_at"],
                        duration_s=round((v["last_inside_at"] - v["entered_at"]).total_seconds()),
                        confidence=v["confidence"],
                        via=v["via"],
                        zones=[ZoneRef(**z) for z in v["zones"]],
                        reason="zone_deleted",
                    ),
                )
                for v in closed
            ],
        )
    ctx.zones.index.remove((store_id, zone_id))


def _identity(data: BeaconPut) -> str:
    if (data.ibeacon is None) == (data.eddystone is None):
        raise Invalid('give exactly one of "ibeacon" or "eddystone"', field="ibeacon")
    return ingest.beacon_identity(data.ibeacon, data.eddystone)


@put("/v1/stores/{store_id:str}/beacons/{beacon_id:str}")
async def put_beacon(
    store_id: FromPath[str],
    beacon_id: FromPath[str],
    data: JSONBody[BeaconPut],
    principal: Caller,
    ctx: FromContext[GeoContext],
) -> BeaconOut:
    principal.require_admin()
    check_id(store_id, "store_id")
    check_id(beacon_id, "beacon_id")
    identity = _identity(data)
    async with ctx.db.transaction() as conn:
        if await repo.get_zone(conn, store_id, data.zone_id) is None:
            raise NotFound(f"unknown zone {data.zone_id!r} in store {store_id!r}", field="zone_id")
        other = await repo.beacon_with_identity(conn, identity)
        if other is not None and (other["store_id"], other["beacon_id"]) != (store_id, beacon_id):
            raise Conflict(
                f"this beacon identity is already beacon {other['beacon_id']!r} of store {other['store_id']!r}",
                field="ibeacon" if data.ibeacon else "eddystone",
            )
        await repo.upsert_beacon(conn, store_id, beacon_id, data.zone_id, identity)
    ctx.zones.beacons[identity] = (store_id, data.zone_id)
    return BeaconOut(
        store_id=store_id, beacon_id=beacon_id, zone_id=data.zone_id, ibeacon=data.ibeacon, eddystone=data.eddystone
    )


@delete("/v1/stores/{store_id:str}/beacons/{beacon_id:str}")
async def delete_beacon(
    store_id: FromPath[str], beacon_id: FromPath[str], principal: Caller, ctx: FromContext[GeoContext]
) -> None:
    principal.require_admin()
    async with ctx.db.transaction() as conn:
        if not await repo.delete_beacon(conn, check_id(store_id, "store_id"), check_id(beacon_id, "beacon_id")):
            raise NotFound(f"unknown beacon {beacon_id!r} in store {store_id!r}", field="beacon_id")
    await ctx.zones.reload_zone(store_id, "")


# --- what phones send (device) ---


@post("/v1/pings", status_code=200)
async def post_pings(data: JSONBody[PingBatch], principal: Caller, ctx: FromContext[GeoContext]) -> IngestResult:
    """A batch of location fixes, in any order; duplicates are harmless. Events come back in the answer."""
    device_id = _require_device_token(principal)
    if len(data.pings) > MAX_BATCH:
        raise TooLarge(f"at most {MAX_BATCH} pings per batch", field="pings")
    # No connection of its own: uploads arriving together share one transaction.
    return await ingest.ingest(ctx, ingest.Upload(device_id, pings=data.pings))


@post("/v1/beacon-sightings", status_code=200)
async def post_sightings(
    data: JSONBody[SightingBatch], principal: Caller, ctx: FromContext[GeoContext]
) -> IngestResult:
    device_id = _require_device_token(principal)
    if len(data.sightings) > MAX_BATCH:
        raise TooLarge(f"at most {MAX_BATCH} sightings per batch", field="sightings")
    for i, s in enumerate(data.sightings):
        if (s.ibeacon is None) == (s.eddystone is None):
            raise Invalid('each sighting has exactly one of "ibeacon" or "eddystone"', field=f"sightings[{i}]")
    return await ingest.ingest(ctx, ingest.Upload(device_id, sightings=data.sightings))


@get("/v1/devices/{device_id:str}/context")
async def device_context(
    device_id: FromPath[str], conn: Conn, principal: Caller, ctx: FromContext[GeoContext]
) -> DeviceContext:
    """Where the device is now: its stores and zones, dwell so far, its active trip."""
    check_id(device_id, "device_id")
    principal.require_device(device_id)
    now = datetime.now(UTC)
    index = ctx.zones.index
    zones = []
    for v in await repo.open_visits(conn, device_id):
        zone = index.get((v["store_id"], v["zone_id"]))
        zones.append(
            ZoneHere(
                store_id=v["store_id"],
                zone_id=v["zone_id"],
                kind=zone.kind if zone else "unknown",
                name=zone.name if zone else None,
                entered_at=v["entered_at"],
                dwell_so_far_s=max(0, round((now - v["entered_at"]).total_seconds())),
                via=v["via"],
            )
        )
    active = await repo.active_trips_of_device(conn, device_id)
    last = await conn.fetchval("SELECT last_ts FROM geo.devices WHERE device_id = $1", device_id)
    return DeviceContext(
        device_id=device_id,
        stores=sorted({z.store_id for z in zones}),
        zones=sorted(zones, key=lambda z: (z.store_id, z.zone_id)),
        last_fix_at=last,
        active_trip=_trip_out(active[0]) if active else None,
    )


# --- pickup trips ---


def _pickup_point(store: asyncpg.Record, ctx: GeoContext) -> tuple[float, float]:
    """Where the shopper is headed: the store's pickup bay if it has one, else the store itself."""
    for zone in ctx.zones.index.zones_of_store(store["store_id"]):
        if zone.kind == "pickup":
            if zone.shape.center is not None:
                return zone.shape.center
            c = zone.shape.polygon.centroid
            return (c.y, c.x)
    return (store["lat"], store["lng"])


@post("/v1/trips", status_code=201)
async def start_trip(
    data: JSONBody[TripCreate], conn: Conn, principal: Caller, ctx: FromContext[GeoContext]
) -> TripCreated:
    """ "I'm on my way": for the device's own order at that store. Retrying gives the same trip."""
    device_id = _require_device_token(principal)
    try:
        status, order = await peers.get_json(ctx, "inventory", f"/v1/orders/{data.order_id}")
    except peers.PeerError as exc:
        raise BadGateway("inventory cannot confirm the order right now; retry shortly") from exc
    if status == 404 or order.get("device_id") != device_id:
        raise NotFound(f"unknown order {data.order_id!r}", field="order_id")
    if order.get("store_id") != data.store_id:
        raise Conflict(f"order {data.order_id!r} is to be collected at another store", field="store_id")
    if order.get("status") not in ("reserved", "ready"):
        raise Conflict(f"order {data.order_id!r} is {order.get('status')}: nothing to collect", field="order_id")
    store = await repo.get_store(conn, data.store_id)
    if store is None:
        raise NotFound(f"unknown store {data.store_id!r}", field="store_id")

    await DeviceState.load(conn, device_id)  # the device's lock: its trips and pings take turns
    existing = await repo.active_trip_of_order(conn, data.order_id)
    if existing is not None:
        return TripCreated(trip_id=existing["trip_id"], status=existing["status"])
    row = await repo.insert_trip(
        conn,
        f"trip_{secrets.token_urlsafe(12)}",
        device_id,
        data.order_id,
        data.store_id,
        data.mode,
        order.get("display_name"),
        _pickup_point(store, ctx),
    )
    # A shopper who taps "I'm on my way" already standing in the bay has arrived at once.
    device = await DeviceState.load(conn, device_id)
    before = device.presence
    device.recheck_trips(ctx.zones.index, datetime.now(UTC))
    await device.save(conn, before)
    row = await repo.get_trip(conn, row["trip_id"])
    return TripCreated(trip_id=row["trip_id"], status=row["status"])


async def _visible_trip(conn: asyncpg.Connection, trip_id: str, principal: Principal) -> asyncpg.Record:
    row = await repo.get_trip(conn, check_id(trip_id, "trip_id"))
    if row is None or not principal.can_see(row["device_id"], row["store_id"]):
        raise NotFound(f"unknown trip {trip_id!r}", field="trip_id")
    return row


@get("/v1/trips/{trip_id:str}")
async def get_trip(trip_id: FromPath[str], conn: Conn, principal: Caller) -> TripOut:
    return _trip_out(await _visible_trip(conn, trip_id, principal))


@post("/v1/trips/{trip_id:str}/cancel", status_code=200)
async def cancel_trip(trip_id: FromPath[str], conn: Conn, principal: Caller, ctx: FromContext[GeoContext]) -> TripOut:
    """The shopper turned back (or staff call it off): staff stop waiting."""
    row = await _visible_trip(conn, trip_id, principal)
    device = await DeviceState.load(conn, row["device_id"])
    before = device.presence
    device.end_trips("canceled", datetime.now(UTC), ctx.zones.index, order_id=row["order_id"], reason="trip.cancel")
    await device.save(conn, before)
    row = await repo.get_trip(conn, trip_id)
    if row["status"] != "canceled":
        raise Conflict(f"trip {trip_id!r} is {row['status']}: it can no longer be canceled", field="trip_id")
    return _trip_out(row)


@get("/v1/stores/{store_id:str}/trips")
async def store_trips(
    store_id: FromPath[str], conn: Conn, principal: Caller, status: FromQuery[str] = "active"
) -> TripList:
    """Trips heading to this store, soonest arrival first (staff of the store)."""
    check_id(store_id, "store_id")
    principal.require_store(store_id)
    if status == "active":
        statuses = list(trips.ACTIVE)
    elif status == "all":
        statuses = list(trips.ACTIVE + trips.ENDED)
    elif status in trips.ACTIVE + trips.ENDED:
        statuses = [status]
    else:
        raise Invalid("status is active, all, or one trip status", field="status")
    rows = await repo.trips_of_store(conn, store_id, statuses)
    return TripList(store_id=store_id, trips=[_trip_out(r) for r in rows])


ROUTES = [
    put_store,
    get_store,
    put_zone,
    list_zones,
    delete_zone,
    put_beacon,
    delete_beacon,
    post_pings,
    post_sightings,
    device_context,
    start_trip,
    get_trip,
    cancel_trip,
    store_trips,
]
