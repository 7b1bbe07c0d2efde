"""Stores, zones and beacons: what operators set up. This process's index has a change before the
answer leaves; the other geo processes get it through LISTEN/NOTIFY within moments (zones.index_sync)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from timezonefinder import TimezoneFinder

from services.geo.context import GeoContext
from services.geo.devices import repository as devices_repo
from services.geo.devices import service as devices
from services.geo.zones import geometry
from services.geo.zones import repository as repo
from services.geo.zones.beacons import beacon_identity, beacon_of_identity
from services.geo.zones.index_sync import zone_of
from services.geo.zones.schemas import (
    BeaconOut,
    BeaconPut,
    Store,
    StoreList,
    StoreOccupancy,
    StorePut,
    ZoneOccupancy,
    ZoneOut,
    ZonePut,
)
from services.geo.zones.zone_index import Zone
from shared import audit
from shared.errors import Conflict, Invalid, NotFound
from shared.events import StoreChanged, StoreData

_timezones = TimezoneFinder(in_memory=True)


def zone_out(row: asyncpg.Record) -> ZoneOut:
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


async def put_store(ctx: GeoContext, store_id: str, data: StorePut) -> Store:
    """Create or update a store; its time zone defaults from its location."""
    tz = data.timezone or _timezones.timezone_at(lat=data.lat, lng=data.lng) or "UTC"
    try:
        ZoneInfo(tz)
    except (KeyError, ValueError) as exc:
        raise Invalid(f"unknown time zone {tz!r}: use an IANA name such as Europe/Paris", field="timezone") from exc
    store = Store(store_id=store_id, name=data.name, lat=data.lat, lng=data.lng, timezone=tz)
    async with ctx.db.transaction() as conn:
        before = await repo.get_store(conn, store_id, lock=True)
        await repo.upsert_store(conn, store_id, data.name, data.lat, data.lng, tz)
        changed = StoreData(name=data.name, lat=data.lat, lng=data.lng, timezone=tz)
        await ctx.publish(conn, [StoreChanged(ts=datetime.now(UTC), store_id=store_id, data=changed)])
        await audit.record(conn, ctx.service, before and Store(**dict(before)), store)
    return store


async def get_store(ctx: GeoContext, store_id: str) -> Store:
    async with ctx.db.transaction(readonly=True) as conn:
        row = await repo.get_store(conn, store_id)
    if row is None:
        raise NotFound(f"unknown store {store_id!r}", field="store_id")
    return Store(**dict(row))


async def list_stores(ctx: GeoContext, after: str | None, limit: int, only: Sequence[str] | None = None) -> StoreList:
    """A page of stores by id (of the `only` ones, if given); `next_after` names the next page's `after`
    when there may be more."""
    async with ctx.db.transaction(readonly=True) as conn:
        rows = await repo.list_stores(conn, after, limit, only)
    stores = [Store(**dict(r)) for r in rows]
    return StoreList(stores=stores, next_after=stores[-1].store_id if len(stores) == limit else None)


async def occupancy(ctx: GeoContext, store_id: str) -> StoreOccupancy:
    """How many devices are in each zone of the store now, from the open visits: counts only."""
    async with ctx.db.transaction(readonly=True) as conn:
        if await repo.get_store(conn, store_id) is None:
            raise NotFound(f"unknown store {store_id!r}", field="store_id")
        zones = await repo.zones_of_store(conn, store_id)
        counts = {r["zone_id"]: r["devices"] for r in await devices_repo.devices_per_zone(conn, store_id)}
    return StoreOccupancy(
        store_id=store_id,
        at=datetime.now(UTC),
        zones=[ZoneOccupancy(zone_id=z["zone_id"], devices=counts.get(z["zone_id"], 0)) for z in zones],
    )


def _stored_shape(data: ZonePut) -> dict[str, Any]:
    """The shape as kept (and as answered), once it is known to be a valid one."""
    if data.circle is not None:
        geometry.circle(data.circle.lat, data.circle.lng, data.circle.radius_m)  # validates
        return {"circle": {"lat": data.circle.lat, "lng": data.circle.lng, "radius_m": data.circle.radius_m}}
    return {"polygon": geometry.polygon(data.polygon).geojson}


async def put_zone(ctx: GeoContext, store_id: str, zone_id: str, data: ZonePut) -> ZoneOut:
    """Create or replace a zone."""
    shape = _stored_shape(data)
    async with ctx.db.transaction() as conn:
        if await repo.get_store(conn, store_id) is None:
            raise NotFound(f"unknown store {store_id!r}: create it first", field="store_id")
        before = await repo.get_zone(conn, store_id, zone_id, lock=True)
        await repo.upsert_zone(conn, store_id, zone_id, data.kind, data.name, data.dwell_s, shape)
        row = await repo.get_zone(conn, store_id, zone_id)
        assert row is not None  # written just now, in this transaction
        await audit.record(conn, ctx.service, before and zone_out(before), zone_out(row))
    ctx.zones.index.put(zone_of(row))
    return zone_out(row)


async def list_zones(ctx: GeoContext, store_id: str) -> list[ZoneOut]:
    async with ctx.db.transaction(readonly=True) as conn:
        return [zone_out(r) for r in await repo.zones_of_store(conn, store_id)]


async def delete_zone(ctx: GeoContext, store_id: str, zone_id: str) -> None:
    """Deleting a zone ends the visits inside it: everyone inside gets an exit, nobody stays forever.
    Those visits are the devices': they end under the devices' locks (devices.service.end_visits_of_zone),
    and the zone leaves this process's index while those locks are held, so a group of pings that takes
    one of these devices after the deletion sees neither the visit nor the zone. The other geo processes
    drop it from their index on the notification."""
    removed: Zone | None = None
    try:
        async with ctx.db.transaction() as conn:
            row = await repo.get_zone(conn, store_id, zone_id, lock=True)
            if row is None:
                raise NotFound(f"unknown zone {zone_id!r} in store {store_id!r}", field="zone_id")
            zone = zone_of(row)
            await repo.delete_zone(conn, store_id, zone_id)
            await audit.record(conn, ctx.service, zone_out(row), None)
            await devices.end_visits_of_zone(ctx, conn, zone, datetime.now(UTC))
            removed = ctx.zones.index.remove(zone.key)
    except BaseException:
        if removed is not None:
            ctx.zones.index.put(removed)  # not deleted after all (the notification settles a doubt either way)
        raise


async def put_beacon(ctx: GeoContext, store_id: str, beacon_id: str, data: BeaconPut) -> BeaconOut:
    identity = beacon_identity(data.ibeacon, data.eddystone)
    async with ctx.db.transaction() as conn:
        if await repo.get_zone(conn, store_id, data.zone_id) is None:
            raise NotFound(f"unknown zone {data.zone_id!r} in store {store_id!r}", field="zone_id")
        other = await repo.beacon_with_identity(conn, identity)
        if other is not None and (other["store_id"], other["beacon_id"]) != (store_id, beacon_id):
            raise Conflict(
                f"this beacon identity is already beacon {other['beacon_id']!r} of store {other['store_id']!r}",
                field="ibeacon" if data.ibeacon else "eddystone",
            )
        before = await repo.get_beacon(conn, store_id, beacon_id, lock=True)
        await repo.upsert_beacon(conn, store_id, beacon_id, data.zone_id, identity)
        after = BeaconOut(
            store_id=store_id, beacon_id=beacon_id, zone_id=data.zone_id, ibeacon=data.ibeacon, eddystone=data.eddystone
        )
        await audit.record(conn, ctx.service, before and _beacon_out(store_id, before), after)
    ctx.zones.beacons[identity] = (store_id, data.zone_id)
    return after


async def delete_beacon(ctx: GeoContext, store_id: str, beacon_id: str) -> None:
    async with ctx.db.transaction() as conn:
        before = await repo.delete_beacon(conn, store_id, beacon_id)
        if before is None:
            raise NotFound(f"unknown beacon {beacon_id!r} in store {store_id!r}", field="beacon_id")
        await audit.record(conn, ctx.service, _beacon_out(store_id, before), None)
    await ctx.zones.reload_zone(store_id, "")


async def list_beacons(ctx: GeoContext, store_id: str) -> list[BeaconOut]:
    async with ctx.db.transaction(readonly=True) as conn:
        if await repo.get_store(conn, store_id) is None:
            raise NotFound(f"unknown store {store_id!r}", field="store_id")
        rows = await repo.beacons_of_store(conn, store_id)
    return [_beacon_out(store_id, r) for r in rows]


def _beacon_out(store_id: str, row: asyncpg.Record) -> BeaconOut:
    ibeacon, eddystone = beacon_of_identity(row["identity"])
    return BeaconOut(
        store_id=store_id, beacon_id=row["beacon_id"], zone_id=row["zone_id"], ibeacon=ibeacon, eddystone=eddystone
    )
