"""Orders' HTTP API."""

from __future__ import annotations

import re
from typing import Annotated

from litestar import Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, JSONBody, Parameter

from services.inventory.context import InventoryContext
from services.inventory.orders import service
from services.inventory.orders.reservations import STATUSES
from services.inventory.orders.schemas import Order, OrderCancel, OrderCreate, OrderList
from shared.auth import SERVICE_READS, Caller
from shared.context import FromContext
from shared.errors import Forbidden, Invalid, errors
from shared.wire import PathId, QueryId, comma_separated, one_of

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", schema_extra={"pattern": _IDEMPOTENCY_KEY.pattern}),
]
StatusFilter = Annotated[str, Parameter(schema_extra={"pattern": comma_separated(one_of(STATUSES), at_least_one=True)})]


@post(
    "/v1/orders",
    responses={
        200: ResponseSpec(Order, description="A retry with the same Idempotency-Key: the order it made"),
        **errors(404, 409, 429),
    },
)
async def place_order(
    data: JSONBody[OrderCreate],
    principal: Caller,
    ctx: FromContext[InventoryContext],
    idempotency_key: IdempotencyKey = None,
) -> Response[Order]:
    """Reserve every line or none. With an Idempotency-Key (recommended: phones retry), the same key
    and request give back the same order (200 instead of 201); the same key with another request is
    a 422. A line the store cannot cover is a 409 naming the SKU and what is available."""
    if principal.role != "device":
        raise Forbidden("orders are placed with a device token")
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise Invalid("Idempotency-Key must be 1-200 visible ASCII characters", field="Idempotency-Key")
    order, created = await service.place(ctx, principal.subject, data, idempotency_key)
    return Response(order, status_code=201 if created else 200)


@get("/v1/orders/{order_id:str}", opt={SERVICE_READS: ("geo",)})
async def get_order(order_id: PathId, principal: Caller, ctx: FromContext[InventoryContext]) -> Order:
    return await service.get_order(ctx, order_id, principal)


@post("/v1/orders/{order_id:str}/ready", status_code=200, responses=errors(409))
async def order_ready(order_id: PathId, principal: Caller, ctx: FromContext[InventoryContext]) -> Order:
    """Staff have prepared the order: it can be collected (the expiry clock restarts from now)."""
    return await service.move(ctx, order_id, "ready", principal)


@post("/v1/orders/{order_id:str}/collected", status_code=200, responses=errors(409))
async def order_collected(order_id: PathId, principal: Caller, ctx: FromContext[InventoryContext]) -> Order:
    """Handed over: the reservation becomes a sale (on_hand and reserved both drop)."""
    return await service.move(ctx, order_id, "collected", principal)


@post("/v1/orders/{order_id:str}/cancel", status_code=200, responses=errors(409))
async def order_cancel(
    order_id: PathId,
    principal: Caller,
    ctx: FromContext[InventoryContext],
    data: JSONBody[OrderCancel | None] = None,
) -> Order:
    """By its device or staff of its store, while reserved or ready: the stock is released."""
    reason = data.reason if data is not None else None
    return await service.move(ctx, order_id, "cancel", principal, reason)


@get("/v1/stores/{store_id:str}/orders")
async def store_orders(
    store_id: PathId,
    principal: Caller,
    ctx: FromContext[InventoryContext],
    status: StatusFilter = "reserved,ready",
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
) -> OrderList:
    """The store's orders, newest first; by default those still to prepare or hand over."""
    principal.require_store(store_id)
    statuses = [s.strip() for s in status.split(",") if s.strip()]
    if not statuses or any(s not in STATUSES for s in statuses):
        raise Invalid(f"status is a comma-separated list of {', '.join(STATUSES)}", field="status")
    return await service.orders_of_store(ctx, store_id, statuses, limit)


@get("/v1/devices/{device_id:str}/orders", opt={SERVICE_READS: ("notify",)})
async def device_orders(
    device_id: PathId,
    principal: Caller,
    ctx: FromContext[InventoryContext],
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    before: QueryId = None,
) -> OrderList:
    """A shopper's own orders, newest first, a page at a time (`before` is the `next_before` of the page
    before): what a data export collects from inventory, every page of it."""
    principal.require_device(device_id)
    return await service.orders_of_device(ctx, device_id, limit, before)


ROUTES = [place_order, get_order, order_ready, order_collected, order_cancel, store_orders, device_orders]
