"""Orders' HTTP API."""

from __future__ import annotations

import re
from typing import Annotated

from litestar import Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, Parameter

from services.inventory.context import InventoryContext
from services.inventory.orders import service
from services.inventory.orders.reservations import STATUSES
from services.inventory.orders.schemas import Order, OrderCancel, OrderCreate, OrderList
from shared.auth import Caller
from shared.context import FromContext
from shared.errors import Forbidden, Invalid
from shared.wire import check_id

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


@post(
    "/v1/orders",
    responses={200: ResponseSpec(Order, description="A retry with the same Idempotency-Key: the order it made")},
)
async def place_order(
    data: JSONBody[OrderCreate],
    principal: Caller,
    ctx: FromContext[InventoryContext],
    idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
) -> Response[Order]:
    """Reserve every line or none. With an Idempotency-Key (recommended: phones retry), the same key
    and request give back the same order (200 instead of 201); the same key with another request is
    a 422. A line the store cannot cover is a 409 naming the SKU and what is available."""
    if principal.role != "device":
        raise Forbidden("orders are placed with a device token")
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise Invalid("Idempotency-Key must be 1-200 visible ASCII characters", field="Idempotency-Key")
    order, created = await service.place(ctx, principal.subject, data, idempotency_key)
    return Response(order, status_code=201 if created else 200)


@get("/v1/orders/{order_id:str}")
async def get_order(order_id: FromPath[str], principal: Caller, ctx: FromContext[InventoryContext]) -> Order:
    return await service.get_order(ctx, check_id(order_id, "order_id"), principal)


@post("/v1/orders/{order_id:str}/ready", status_code=200)
async def order_ready(order_id: FromPath[str], principal: Caller, ctx: FromContext[InventoryContext]) -> Order:
    """Staff have prepared the order: it can be collected (the expiry clock restarts from now)."""
    return await service.move(ctx, check_id(order_id, "order_id"), "ready", principal)


@post("/v1/orders/{order_id:str}/collected", status_code=200)
async def order_collected(order_id: FromPath[str], principal: Caller, ctx: FromContext[InventoryContext]) -> Order:
    """Handed over: the reservation becomes a sale (on_hand and reserved both drop)."""
    return await service.move(ctx, check_id(order_id, "order_id"), "collected", principal)


@post("/v1/orders/{order_id:str}/cancel", status_code=200)
async def order_cancel(
    order_id: FromPath[str],
    principal: Caller,
    ctx: FromContext[InventoryContext],
    data: JSONBody[OrderCancel | None] = None,
) -> Order:
    """By its device or staff of its store, while reserved or ready: the stock is released."""
    reason = data.reason if data is not None else None
    return await service.move(ctx, check_id(order_id, "order_id"), "cancel", principal, reason)


@get("/v1/stores/{store_id:str}/orders")
async def store_orders(
    store_id: FromPath[str],
    principal: Caller,
    ctx: FromContext[InventoryContext],
    status: FromQuery[str] = "reserved,ready",
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
) -> OrderList:
    """The store's orders, newest first; by default those still to prepare or hand over."""
    check_id(store_id, "store_id")
    principal.require_store(store_id)
    statuses = [s.strip() for s in status.split(",") if s.strip()]
    if not statuses or any(s not in STATUSES for s in statuses):
        raise Invalid(f"status is a comma-separated list of {', '.join(STATUSES)}", field="status")
    return await service.orders_of_store(ctx, store_id, statuses, limit)


@get("/v1/devices/{device_id:str}/orders")
async def device_orders(
    device_id: FromPath[str],
    principal: Caller,
    ctx: FromContext[InventoryContext],
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    before: FromQuery[str | None] = None,
) -> OrderList:
    """A shopper's own orders, newest first, a page at a time (`before` is the `next_before` of the page
    before): what a data export collects from inventory, every page of it."""
    check_id(device_id, "device_id")
    principal.require_device(device_id)
    if before is not None:
        check_id(before, "before")
    return await service.orders_of_device(ctx, device_id, limit, before)


ROUTES = [place_order, get_order, order_ready, order_collected, order_cancel, store_orders, device_orders]
