"""geo's HTTP API (API.md, "geo")."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg
from litestar import delete, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody
from timezonefinder import TimezoneFinder

from services.geo import geometry, ingest
from services.geo import repository as repo
from services.geo.schemas import IngestResult, PingBatch, Store, StorePut, ZoneOut, ZonePut
from services.geo.zones import zone_of
from shared import bus
from shared.auth import Caller
from shared.db import Conn
from shared.errors import Forbidden, Invalid, NotFound, TooLarge
from shared.events import NewEvent
from shared.wire import check_id

MAX_PINGS_PER_BATCH = 500
_timezones = TimezoneFinder(in_memory=True)


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


@put("/v1/stores/{store_id:str}")
async def put_store(store_id: FromPath[str], data: JSONBody[StorePut], conn: Conn, principal: Caller) -> Store:
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
    store_id: FromPath[str], zone_id: FromPath[str], data: JSONBody[ZonePut], conn: Conn, principal: Caller
) -> ZoneOut:
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
    if await repo.get_store(conn, store_id) is None:
        raise NotFound(f"unknown store {store_id!r}: create it first", field="store_id")
    await repo.upsert_zone(conn, store_id, zone_id, data.kind, data.name, data.dwell_s, shape)
    return _zone_out(await repo.get_zone(conn, store_id, zone_id))


@get("/v1/stores/{store_id:str}/zones")
async def list_zones(store_id: FromPath[str], conn: Conn) -> list[ZoneOut]:
    return [_zone_out(r) for r in await repo.zones_of_store(conn, check_id(store_id, "store_id"))]


@delete("/v1/stores/{store_id:str}/zones/{zone_id:str}")
async def delete_zone(store_id: FromPath[str], zone_id: FromPath[str], conn: Conn, principal: Caller) -> None:
    """Deleting a zone closes its open visits: everyone inside gets an exit, nobody stays forever."""
    principal.require_admin()
    row = await repo.get_zone(conn, check_id(store_id, "store_id"), check_id(zone_id, "zone_id"))
    if row is None:
        raise NotFound(f"unknown zone {zone_id!r} in store {store_id!r}", field="zone_id")
    zone = zone_of(row)
    closed = await repo.close_visits_of_zone(conn, store_id, zone_id)
    await repo.delete_zone(conn, store_id, zone_id)
    now = datetime.now(UTC)
    await bus.publish(
        conn,
        ingest.SOURCE,
        [
            NewEvent(
                type="zone.exited",
                ts=now,
                device_id=v["device_id"],
                store_id=store_id,
                zone_id=zone_id,
                data={
                    "kind": zone.kind,
                    "duration_s": round((v["last_inside_at"] - v["entered_at"]).total_seconds()),
                    "reason": "zone_deleted",
                },
            )
            for v in closed
        ],
    )


@post("/v1/pings", status_code=200)
async def post_pings(data: JSONBody[PingBatch], conn: Conn, principal: Caller, state: State) -> IngestResult:
    if principal.role != "device":
        raise Forbidden("pings are sent with a device token")
    if len(data.pings) > MAX_PINGS_PER_BATCH:
        raise TooLarge(f"at most {MAX_PINGS_PER_BATCH} pings per batch", field="pings")
    return await ingest.ingest(conn, state, principal.subject, data.pings)


ROUTES = [put_store, get_store, put_zone, list_zones, delete_zone, post_pings]
