"""Pickup orders: placing (reserving stock), moving through their lifecycle, lapsing. Each call runs
in the caller's transaction and publishes its events there."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

import asyncpg

from services.inventory import repository as repo
from services.inventory import stock
from services.inventory.reservations import MOVES, Holds, Line, clean_display_name, lines_of
from services.inventory.schemas import Order, OrderCreate, OrderLine
from services.inventory.settings import InventorySettings
from shared import bus
from shared import events as ev
from shared.db import Database
from shared.errors import Conflict, Invalid, NotFound
from shared.events import Event, OrderCanceled, OrderCollected, OrderData, OrderReady, OrderReserved

EXPIRY_BATCH = 500


def new_order_id() -> str:
    """80 random bits, upper-case base32: easy to read out at a pickup counter."""
    return "ord_" + base64.b32encode(secrets.token_bytes(10)).decode()


def holds(settings: InventorySettings) -> Holds:
    return Holds(prepare=timedelta(seconds=settings.prepare_hold_s), pickup=timedelta(seconds=settings.pickup_hold_s))


def lines_in(order: asyncpg.Record) -> list[Line]:
    return [Line(line["sku"], line["qty"]) for line in order["lines"] or []]


def to_answer(order: asyncpg.Record, hold: Holds) -> Order:
    return Order(
        order_id=order["order_id"],
        status=order["status"],
        store_id=order["store_id"],
        device_id=order["device_id"],
        display_name=order["display_name"],
        lines=[OrderLine(sku=line.sku, qty=line.qty) for line in lines_in(order)],
        created_at=order["created_at"],
        ready_at=order["ready_at"],
        collected_at=order["collected_at"],
        canceled_at=order["canceled_at"],
        cancel_reason=order["cancel_reason"],
        expires_at=hold.expires_at(order["status"], order["created_at"], order["ready_at"]),
    )


ORDER_EVENTS: dict[str, type[Event]] = {
    "ready": OrderReady,
    "collected": OrderCollected,
    "canceled": OrderCanceled,
}


def order_event(kind: type[Event], order: asyncpg.Record, now: datetime) -> Event:
    data = OrderData(
        lines=[ev.OrderLine(sku=line.sku, qty=line.qty) for line in lines_in(order)],
        display_name=order["display_name"],
        reason=order["cancel_reason"],
    )
    return kind(ts=now, device_id=order["device_id"], store_id=order["store_id"], order_id=order["order_id"], data=data)


async def place(
    conn: asyncpg.Connection, device_id: str, request: OrderCreate, idempotency_key: str | None, now: datetime
) -> tuple[asyncpg.Record, bool]:
    """Reserve every line or none; return the order and whether it was created by this call (False:
    a retry with the same Idempotency-Key and the same request, answered with the order it made)."""
    lines = lines_of([(line.sku, line.qty) for line in request.lines])
    name = clean_display_name(request.display_name)
    order_id = new_order_id()
    if not await repo.insert_order(conn, order_id, device_id, request.store_id, name, idempotency_key, now):
        existing = await repo.order_by_key(conn, device_id, idempotency_key)
        if (existing["store_id"], lines_in(existing), existing["display_name"]) != (request.store_id, lines, name):
            raise Invalid(
                f"this Idempotency-Key was used for another request (order {existing['order_id']}): "
                "use a new key for a new order",
                field="Idempotency-Key",
            )
        return existing, False
    skus = [line.sku for line in lines]
    known = await repo.insert_order_lines(conn, order_id, skus, [line.qty for line in lines])
    if unknown := sorted(set(skus) - set(known)):
        raise NotFound(f"unknown sku {unknown[0]!r}", field="lines", sku=unknown[0])
    order = await repo.get_order(conn, order_id)
    # Stock last: a popular item's row stays locked only from here to the commit.
    stock_events = await stock.reserve(conn, request.store_id, lines, now)
    await bus.publish(conn, "inventory", [order_event(OrderReserved, order, now), *stock_events])
    return order, True


async def move(
    conn: asyncpg.Connection,
    order_id: str,
    action: str,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> asyncpg.Record:
    """ready, collected or cancel, from the statuses that allow it; a move that lost a race, or was
    never allowed, is a 409 naming the order's status."""
    sources, target = MOVES[action]
    moved = await repo.move_order(conn, order_id, sources, target, now, reason)
    if moved is None:
        current = await repo.get_order(conn, order_id)
        raise Conflict(
            f"order {order_id} is {current['status']}: {action} needs it {' or '.join(sources)}",
            field="status",
            order_status=current["status"],
        )
    events = [order_event(ORDER_EVENTS[target], moved, now)]
    lines = lines_in(moved)
    if target == "collected":
        await stock.sell(conn, moved["store_id"], lines, order_id=moved["order_id"], actor=actor)
    elif target == "canceled":
        events += await stock.release(conn, [(moved["store_id"], line.sku, line.qty) for line in lines], now)
    await bus.publish(conn, "inventory", events)
    return moved


async def cancel_lapsed(db: Database, hold: Holds, now: datetime, batch: int = EXPIRY_BATCH) -> int:
    """Cancel every order that waited too long to be made ready or collected, releasing its stock;
    in batches, each its own transaction, so a long backlog never holds many locks for long."""
    reserved_before, ready_before = hold.cutoffs(now)
    total = 0
    while True:
        async with db.transaction() as conn:
            lapsed = await repo.cancel_lapsed(conn, reserved_before, ready_before, now, batch)
            if lapsed:
                released = [(o["store_id"], line.sku, line.qty) for o in lapsed for line in lines_in(o)]
                events = [order_event(OrderCanceled, o, now) for o in lapsed]
                events += await stock.release(conn, released, now)
                await bus.publish(conn, "inventory", events)
        total += len(lapsed)
        if len(lapsed) < batch:
            return total
