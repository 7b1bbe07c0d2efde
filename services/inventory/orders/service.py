"""Pickup orders' use cases: placing (reserving stock), moving through their lifecycle, lapsing. The
events of each change are published in the transaction that makes it."""

from __future__ import annotations

import base64
import math
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from services.inventory.context import InventoryContext
from services.inventory.orders import repository as repo
from services.inventory.orders.limits import Holding, Limits, refusal, wait_before_next
from services.inventory.orders.reservations import MOVES, Holds, clean_display_name, lines_of
from services.inventory.orders.schemas import Order, OrderCreate, OrderLine, OrderList
from services.inventory.settings import InventorySettings
from services.inventory.stock import reserving
from services.inventory.stock.availability import Line
from services.inventory.stock.ledger import actor
from shared import audit
from shared import events as ev
from shared.auth import Principal
from shared.errors import Conflict, Invalid, NotFound, TooManyRequests
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
    ctx: InventoryContext, device_id: str, request: OrderCreate, idempotency_key: str | None
) -> tuple[Order, bool]:
    """Reserve every line or none; return the order and whether it was created by this call (False:
    a retry with the same Idempotency-Key and the same request, answered with the order it made)."""
    now = datetime.now(UTC)
    hold = holds(ctx.config)
    lines = lines_of([(line.sku, line.qty) for line in request.lines])
    name = clean_display_name(request.display_name)
    order_id = new_order_id()
    async with ctx.db.transaction() as conn:
        await repo.lock_device_orders(conn, device_id)
        existing = await repo.order_by_key(conn, device_id, idempotency_key) if idempotency_key else None
        if existing is not None:
            if (existing["store_id"], lines_in(existing), existing["display_name"]) != (request.store_id, lines, name):
                raise Invalid(
                    f"this Idempotency-Key was used for another request (order {existing['order_id']}): "
                    "use a new key for a new order",
                    field="Idempotency-Key",
                )
            return to_answer(existing, hold), False
        await _within_limits(conn, ctx.config, device_id, lines, now)
        await repo.insert_order(conn, order_id, device_id, request.store_id, name, idempotency_key, now)
        skus = [line.sku for line in lines]
        known = await repo.insert_order_lines(conn, order_id, skus, [line.qty for line in lines])
        if unknown := sorted(set(skus) - set(known)):
            raise NotFound(f"unknown sku {unknown[0]!r}", field="lines", sku=unknown[0])
        order = await repo.get_order(conn, order_id)
        assert order is not None  # inserted above, in this transaction
        # Stock last: a popular item's row stays locked only from here to the commit.
        stock_events = await reserving.reserve(conn, request.store_id, lines, now)
        await ctx.publish(conn, [order_event(OrderReserved, order, now), *stock_events])
    return to_answer(order, hold), True


def limits_of(settings: InventorySettings) -> Limits:
    return Limits(
        open_orders=settings.max_open_orders,
        open_units=settings.max_open_units,
        units_per_product=settings.max_units_per_product,
        orders_per_hour=settings.max_orders_per_hour,
    )


async def _within_limits(
    conn: asyncpg.Connection, settings: InventorySettings, device_id: str, lines: Sequence[Line], now: datetime
) -> None:
    """429 for a device ordering too often, 409 for one that would hold too much."""
    row = await repo.holding_of(conn, device_id, now - timedelta(hours=1))
    held = Holding(open_orders=row["open_orders"], units=row["units"], placed=row["placed"])
    limits = limits_of(settings)
    if (wait := wait_before_next(limits, held.placed, now)) is not None:
        raise TooManyRequests(
            f"at most {limits.orders_per_hour} orders an hour per shopper: retry in {wait:.0f} s",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    if (why := refusal(limits, held, lines)) is not None:
        raise Conflict(why, field="lines")


async def _visible_order(conn: asyncpg.Connection, order_id: str, principal: Principal) -> asyncpg.Record:
    """The order, if the caller may see it: its device, staff or a manager of its store, or the system.
    Anyone else gets the same 404 as for an order that does not exist; an operator whose role has no
    orders (a marketer), a 403."""
    principal.limit_operators("store_manager")
    order = await repo.get_order(conn, order_id)
    if order is None or not principal.can_see(order["device_id"], order["store_id"]):
        raise NotFound(f"unknown order {order_id!r}", field="order_id")
    return order


async def get_order(ctx: InventoryContext, order_id: str, principal: Principal) -> Order:
    async with ctx.db.transaction(readonly=True) as conn:
        order = await _visible_order(conn, order_id, principal)
    return to_answer(order, holds(ctx.config))


async def move(
    ctx: InventoryContext, order_id: str, action: str, principal: Principal, reason: str | None = None
) -> Order:
    """ready, collected or cancel, from the statuses that allow it; a move that lost a race, or was
    never allowed, is a 409 naming the order's status. Preparing and handing over is the store's job;
    a shopper may cancel their own order."""
    sources, target = MOVES[action]
    async with ctx.db.transaction() as conn:
        order = await _visible_order(conn, order_id, principal)
        if action != "cancel" or principal.role != "device":
            principal.require_store(order["store_id"])
        if target == "canceled" and reason is None:
            reason = f"canceled_by_{principal.role}"
        now = datetime.now(UTC)
        moved = await repo.move_order(conn, order_id, sources, target, now, reason)
        if moved is None:
            current = await _visible_order(conn, order_id, principal)  # a 404 if it was erased meanwhile
            raise Conflict(
                f"order {order_id} is {current['status']}: {action} needs it {' or '.join(sources)}",
                field="status",
                order_status=current["status"],
            )
        events = [order_event(ORDER_EVENTS[target], moved, now)]
        lines = lines_in(moved)
        if target == "collected":
            await reserving.sell(conn, moved["store_id"], lines, order_id=order_id, actor=actor(principal))
        elif target == "canceled":
            events += await reserving.release(conn, [(moved["store_id"], line.sku, line.qty) for line in lines], now)
        await ctx.publish(conn, events)
        await audit.record(conn, ctx.service, to_answer(order, holds(ctx.config)), to_answer(moved, holds(ctx.config)))
    return to_answer(moved, holds(ctx.config))


async def orders_of_store(ctx: InventoryContext, store_id: str, statuses: Sequence[str], limit: int) -> OrderList:
    hold = holds(ctx.config)
    async with ctx.db.transaction(readonly=True) as conn:
        rows = await repo.orders_of_store(conn, store_id, statuses, limit)
    return OrderList(orders=[to_answer(o, hold) for o in rows])


async def orders_of_device(ctx: InventoryContext, device_id: str, limit: int, before: str | None) -> OrderList:
    hold = holds(ctx.config)
    async with ctx.db.transaction(readonly=True) as conn:
        rows = await repo.orders_of_device(conn, device_id, limit + 1, before)
    page = rows[:limit]
    return OrderList(
        orders=[to_answer(o, hold) for o in page], next_before=page[-1]["order_id"] if len(rows) > limit else None
    )


async def release_canceled(
    conn: asyncpg.Connection, ctx: InventoryContext, canceled: Sequence[asyncpg.Record], now: datetime
) -> None:
    """In the transaction that canceled these orders: their stock goes back on sale, and the bus hears
    of both."""
    if not canceled:
        return
    released = [(o["store_id"], line.sku, line.qty) for o in canceled for line in lines_in(o)]
    events = [order_event(OrderCanceled, o, now) for o in canceled]
    await ctx.publish(conn, events + await reserving.release(conn, released, now))


async def cancel_lapsed(ctx: InventoryContext, now: datetime, batch: int = EXPIRY_BATCH) -> int:
    """Cancel every order that waited too long to be made ready or collected, releasing its stock;
    in batches, each its own transaction, so a long backlog never holds many locks for long."""
    reserved_before, ready_before = holds(ctx.config).cutoffs(now)
    total = 0
    while True:
        async with ctx.db.transaction() as conn:
            lapsed = await repo.cancel_lapsed(conn, reserved_before, ready_before, now, batch)
            await release_canceled(conn, ctx, lapsed, now)
        total += len(lapsed)
        if len(lapsed) < batch:
            return total
