"""Pickup trips: "I'm on my way", cancelling, and what the shopper and the store's staff see of them.
A trip moves under its device's row lock (devices.unit_of_work), like the device's pings."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from services.geo.context import GeoContext
from services.geo.devices import progress
from services.geo.devices import repository as repo
from services.geo.devices.schemas import TripOut
from services.geo.devices.service import trip_out
from services.geo.devices.trips.schemas import Order, TripCreate, TripCreated, TripList
from services.geo.devices.unit_of_work import locked_devices, trip_state
from services.geo.zones import repository as zones_repo
from shared import budgets, peers
from shared.auth import Principal
from shared.errors import BadGateway, Conflict, Invalid, NotFound


async def _order_to_collect(ctx: GeoContext, device_id: str, data: TripCreate) -> Order:
    """inventory's word that the order is the device's own, to be collected at that store."""
    try:
        status, answer = await peers.get_json(ctx, "inventory", f"/v1/orders/{data.order_id}")
    except peers.PeerError as exc:
        raise BadGateway("inventory cannot confirm the order right now; retry shortly") from exc
    try:
        order = None if status == 404 else msgspec.convert(answer, Order)
    except msgspec.ValidationError as exc:
        raise BadGateway(f"inventory's answer about the order is not the agreed one: {exc}") from exc
    if order is None or order.device_id != device_id:
        raise NotFound(f"unknown order {data.order_id!r}", field="order_id")
    if order.store_id != data.store_id:
        raise Conflict(f"order {data.order_id!r} is to be collected at another store", field="store_id")
    if order.status not in ("reserved", "ready"):
        raise Conflict(f"order {data.order_id!r} is {order.status}: nothing to collect", field="order_id")
    return order


def _pickup_point(store: asyncpg.Record, ctx: GeoContext) -> tuple[float, float]:
    """Where the shopper is headed: the store's pickup bay if it has one, else the store itself."""
    for zone in ctx.zones.index.zones_of_store(store["store_id"]):
        if zone.kind == "pickup":
            if zone.shape.center is not None:
                return zone.shape.center
            c = zone.shape.polygon.centroid
            return (c.y, c.x)
    return (store["lat"], store["lng"])


async def start_trip(ctx: GeoContext, device_id: str, data: TripCreate) -> TripCreated:
    """ "I'm on my way": for the device's own order at that store. Retrying gives the same trip.
    inventory is asked first: no row is locked while it answers."""
    order = await _order_to_collect(ctx, device_id, data)
    async with ctx.db.transaction() as conn:
        store = await zones_repo.get_store(conn, data.store_id)
        if store is None:
            raise NotFound(f"unknown store {data.store_id!r}", field="store_id")
        async with locked_devices(ctx, conn, [device_id]) as batch:  # the device's trips and pings take turns
            existing = await repo.active_trip_of_order(conn, data.order_id)
            if existing is not None:
                return TripCreated(trip_id=existing["trip_id"], status=existing["status"])
            # Counted under the device's lock: two starts racing cannot both take the last one.
            now = datetime.now(UTC)
            started = await repo.trips_started_since(conn, device_id, now - timedelta(hours=1))
            budgets.spend_hourly(started, ctx.config.trips_per_hour, now, "trips")
            row = await repo.insert_trip(
                conn,
                f"trip_{secrets.token_urlsafe(12)}",
                device_id,
                data.order_id,
                data.store_id,
                data.mode,
                order.display_name,
                _pickup_point(store, ctx),
            )
            if row is None:  # started a moment ago for the same order, from another device
                raise Conflict(f"order {data.order_id!r} has a trip under way already", field="order_id")
            trip = trip_state(row)
            batch.devices[device_id].add_trip(trip, ctx.zones.index, datetime.now(UTC))
    return TripCreated(trip_id=trip.trip.trip_id, status=trip.trip.status)


async def _visible_trip(conn: asyncpg.Connection, trip_id: str, principal: Principal) -> asyncpg.Record:
    """The trip, if the caller may see it: its device, staff or a manager of its store, or the system.
    Anyone else gets the same 404 as for a trip that does not exist; an operator whose role has no
    trips (a marketer), a 403."""
    principal.limit_operators("store_manager")
    row = await repo.get_trip(conn, trip_id)
    if row is None or not principal.can_see(row["device_id"], row["store_id"]):
        raise NotFound(f"unknown trip {trip_id!r}", field="trip_id")
    return row


async def get_trip(ctx: GeoContext, trip_id: str, principal: Principal) -> TripOut:
    async with ctx.db.transaction(readonly=True) as conn:
        return trip_out(await _visible_trip(conn, trip_id, principal))


async def cancel_trip(ctx: GeoContext, trip_id: str, principal: Principal) -> TripOut:
    """The shopper turned back (or staff call it off): staff stop waiting. Cancelling twice is harmless."""
    async with ctx.db.transaction() as conn:
        row = await _visible_trip(conn, trip_id, principal)
        async with locked_devices(ctx, conn, [row["device_id"]]) as batch:
            batch.devices[row["device_id"]].end_trips(
                "canceled", datetime.now(UTC), ctx.zones.index, order_id=row["order_id"], reason="trip.cancel"
            )
        row = await _visible_trip(conn, trip_id, principal)  # as it is now
        if row["status"] != "canceled":
            raise Conflict(f"trip {trip_id!r} is {row['status']}: it can no longer be canceled", field="trip_id")
    return trip_out(row)


def statuses_of(status: str) -> list[str]:
    """What the staff's `status` filter means: active, all, or one trip status."""
    if status == "active":
        return list(progress.ACTIVE)
    if status == "all":
        return list(progress.ACTIVE + progress.ENDED)
    if status in progress.ACTIVE + progress.ENDED:
        return [status]
    raise Invalid("status is active, all, or one trip status", field="status")


async def store_trips(ctx: GeoContext, store_id: str, status: str, limit: int, before: str | None) -> TripList:
    """Trips heading to this store soonest arrival first; ended ones newest first, a page at a time."""
    statuses = statuses_of(status)
    async with ctx.db.transaction(readonly=True) as conn:
        if status == "active":
            return TripList(
                store_id=store_id, trips=[trip_out(r) for r in await repo.trips_under_way(conn, store_id, limit)]
            )
        rows = await repo.trips_of_store(conn, store_id, statuses, limit + 1, before)
    page = rows[:limit]
    return TripList(
        store_id=store_id,
        trips=[trip_out(r) for r in page],
        next_before=page[-1]["trip_id"] if len(rows) > limit else None,
    )
