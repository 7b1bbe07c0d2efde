"""inventory's HTTP API (API.md, "inventory")."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import asyncpg
from litestar import Request, Response, get, post, put
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, Parameter

from services.inventory import importing, orders, stock
from services.inventory import repository as repo
from services.inventory.context import InventoryContext
from services.inventory.reservations import STATUSES
from services.inventory.schemas import (
    Alternative,
    AlternativeList,
    ImportResult,
    Ledger,
    LedgerEntry,
    Order,
    OrderCancel,
    OrderCreate,
    OrderList,
    Product,
    ProductPut,
    StockAdjust,
    StockItem,
    StockList,
    StockPut,
)
from shared.alternatives import Candidate, rank
from shared.auth import Caller, Principal
from shared.context import FromContext
from shared.db import Conn
from shared.errors import ApiError, Forbidden, Invalid, NotFound, TooLarge
from shared.wire import check_id

MAX_SKUS_PER_QUERY = 500
MAX_IMPORT_BYTES = 32 * 1024 * 1024
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


def _actor(principal: Principal) -> str:
    return f"{principal.role}:{principal.subject}"


def _stock_item(sku: str, row: asyncpg.Record) -> StockItem:
    return StockItem(
        sku=sku, on_hand=row["on_hand"], reserved=row["reserved"], available=row["on_hand"] - row["reserved"]
    )


def _product(row: asyncpg.Record) -> Product:
    return Product(
        sku=row["sku"],
        name=row["name"],
        category=row["category"],
        names=row["names"],
        low_stock_threshold=row["low_stock_threshold"],
    )


@put("/v1/products/{sku:str}")
async def put_product(sku: FromPath[str], data: JSONBody[ProductPut], conn: Conn, principal: Caller) -> Product:
    principal.require_admin()
    check_id(sku, "sku")
    await repo.upsert_product(conn, sku, data.name, data.category, data.names, data.low_stock_threshold)
    return _product(await repo.get_product(conn, sku))


@get("/v1/products/{sku:str}")
async def get_product(sku: FromPath[str], conn: Conn) -> Product:
    row = await repo.get_product(conn, check_id(sku, "sku"))
    if row is None:
        raise NotFound(f"unknown sku {sku!r}", field="sku")
    return _product(row)


@put("/v1/stores/{store_id:str}/stock/{sku:str}")
async def put_stock(
    store_id: FromPath[str], sku: FromPath[str], data: JSONBody[StockPut], conn: Conn, principal: Caller
) -> StockItem:
    check_id(store_id, "store_id")
    check_id(sku, "sku")
    principal.require_store(store_id)
    row = await stock.set_on_hand(conn, store_id, sku, data.on_hand, reason=data.reason, actor=_actor(principal))
    return _stock_item(sku, row)


@post("/v1/stores/{store_id:str}/stock/{sku:str}/adjustments", status_code=200)
async def adjust_stock(
    store_id: FromPath[str], sku: FromPath[str], data: JSONBody[StockAdjust], conn: Conn, principal: Caller
) -> StockItem:
    """A relative change with its reason: a delivery (+12), a breakage (-1). 409 if it would leave
    less on hand than orders have reserved."""
    check_id(store_id, "store_id")
    check_id(sku, "sku")
    principal.require_store(store_id)
    if data.delta == 0:
        raise Invalid("delta must not be 0", field="delta")
    row = await stock.adjust(conn, store_id, sku, data.delta, reason=data.reason, actor=_actor(principal))
    return _stock_item(sku, row)


@get("/v1/stores/{store_id:str}/stock/{sku:str}/ledger")
async def get_ledger(
    store_id: FromPath[str],
    sku: FromPath[str],
    conn: Conn,
    principal: Caller,
    before: Annotated[int | None, Parameter(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> Ledger:
    """Every change of on_hand, newest first: who, when, why, before and after."""
    check_id(store_id, "store_id")
    check_id(sku, "sku")
    principal.require_store(store_id)
    rows = await repo.ledger_of(conn, store_id, sku, before, limit)
    return Ledger(
        store_id=store_id,
        sku=sku,
        entries=[LedgerEntry(**dict(r), delta=r["after"] - r["before"]) for r in rows],
    )


@post("/v1/stock/import", status_code=200, request_max_body_size=MAX_IMPORT_BYTES)
async def import_stock(request: Request, conn: Conn, principal: Caller) -> ImportResult:
    """Set on_hand for many (store, SKU) rows: all of them or none. JSON `{"rows": [...]}` or CSV
    (`text/csv`, header store_id,sku,on_hand). A 422 lists every bad row: row number, field, reason."""
    principal.require_admin()
    media_type = request.content_type[0]
    if media_type == "application/json":
        parse = importing.parse_json
    elif media_type == "text/csv":
        parse = importing.parse_csv
    else:
        raise UnsupportedMediaType("send application/json or text/csv", field="content-type")
    parsed = parse(await request.body())
    return await stock.import_rows(conn, parsed, actor=_actor(principal))


@get("/v1/stores/{store_id:str}/stock")
async def get_stock(store_id: FromPath[str], conn: Conn, sku: FromQuery[str | None] = None) -> StockList:
    """Anyone with a token may ask: availability is what a shop window shows."""
    check_id(store_id, "store_id")
    skus = None
    if sku is not None:
        skus = list(dict.fromkeys(s.strip() for s in sku.split(",") if s.strip()))
        if len(skus) > MAX_SKUS_PER_QUERY:
            raise TooLarge(f"at most {MAX_SKUS_PER_QUERY} SKUs per query", field="sku")
        for s in skus:
            check_id(s, "sku")
    rows = await repo.stock_of_store(conn, store_id, skus)
    return StockList(store_id=store_id, items=[_stock_item(r["sku"], r) for r in rows])


@get("/v1/stores/{store_id:str}/alternatives/{sku:str}")
async def get_alternatives(store_id: FromPath[str], sku: FromPath[str], conn: Conn) -> AlternativeList:
    check_id(store_id, "store_id")
    product = await repo.get_product(conn, check_id(sku, "sku"))
    if product is None:
        raise NotFound(f"unknown sku {sku!r}", field="sku")
    rows = await repo.available_products(conn, store_id, sku)
    names = {r["sku"]: r["names"] for r in rows}
    ranked = rank(
        product["name"],
        product["category"],
        [Candidate(r["sku"], r["name"], r["category"], r["available"]) for r in rows],
    )
    return AlternativeList(
        store_id=store_id,
        sku=sku,
        items=[
            Alternative(sku=c.sku, name=c.name, category=c.category, available=c.available, names=names[c.sku])
            for c in ranked
        ],
    )


# ------------------------------------------------------------------------------------------ orders


@post(
    "/v1/orders",
    responses={200: ResponseSpec(Order, description="A retry with the same Idempotency-Key: the order it made")},
)
async def place_order(
    data: JSONBody[OrderCreate],
    conn: Conn,
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
    order, created = await orders.place(conn, principal.subject, data, idempotency_key, datetime.now(UTC))
    return Response(orders.to_answer(order, orders.holds(ctx.config)), status_code=201 if created else 200)


async def _visible_order(conn: asyncpg.Connection, order_id: str, principal: Principal) -> asyncpg.Record:
    """The order, if the caller may see it: its device, staff of its store, or the system. Anyone else
    gets the same 404 as for an order that does not exist."""
    order = await repo.get_order(conn, check_id(order_id, "order_id"))
    if order is None or not principal.can_see(order["device_id"], order["store_id"]):
        raise NotFound(f"unknown order {order_id!r}", field="order_id")
    return order


@get("/v1/orders/{order_id:str}")
async def get_order(
    order_id: FromPath[str], conn: Conn, principal: Caller, ctx: FromContext[InventoryContext]
) -> Order:
    order = await _visible_order(conn, order_id, principal)
    return orders.to_answer(order, orders.holds(ctx.config))


async def _move(
    conn: asyncpg.Connection,
    order_id: str,
    action: str,
    principal: Principal,
    ctx: InventoryContext,
    reason: str | None = None,
) -> Order:
    order = await _visible_order(conn, order_id, principal)
    if action != "cancel" or principal.role != "device":
        principal.require_store(order["store_id"])  # preparing and handing over is the store's job
    moved = await orders.move(
        conn, order["order_id"], action, actor=_actor(principal), now=datetime.now(UTC), reason=reason
    )
    return orders.to_answer(moved, orders.holds(ctx.config))


@post("/v1/orders/{order_id:str}/ready", status_code=200)
async def order_ready(
    order_id: FromPath[str], conn: Conn, principal: Caller, ctx: FromContext[InventoryContext]
) -> Order:
    """Staff have prepared the order: it can be collected (the expiry clock restarts from now)."""
    return await _move(conn, order_id, "ready", principal, ctx)


@post("/v1/orders/{order_id:str}/collected", status_code=200)
async def order_collected(
    order_id: FromPath[str], conn: Conn, principal: Caller, ctx: FromContext[InventoryContext]
) -> Order:
    """Handed over: the reservation becomes a sale (on_hand and reserved both drop)."""
    return await _move(conn, order_id, "collected", principal, ctx)


@post("/v1/orders/{order_id:str}/cancel", status_code=200)
async def order_cancel(
    order_id: FromPath[str],
    conn: Conn,
    principal: Caller,
    ctx: FromContext[InventoryContext],
    data: JSONBody[OrderCancel | None] = None,
) -> Order:
    """By its device or staff of its store, while reserved or ready: the stock is released."""
    reason = data.reason if data is not None and data.reason else f"canceled_by_{principal.role}"
    return await _move(conn, order_id, "cancel", principal, ctx, reason)


@get("/v1/stores/{store_id:str}/orders")
async def store_orders(
    store_id: FromPath[str],
    conn: Conn,
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
    hold = orders.holds(ctx.config)
    return OrderList(
        orders=[orders.to_answer(o, hold) for o in await repo.orders_of_store(conn, store_id, statuses, limit)]
    )


@get("/v1/devices/{device_id:str}/orders")
async def device_orders(
    device_id: FromPath[str],
    conn: Conn,
    principal: Caller,
    ctx: FromContext[InventoryContext],
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
) -> OrderList:
    """A shopper's own orders, newest first (also what a data export collects from inventory)."""
    check_id(device_id, "device_id")
    principal.require_device(device_id)
    hold = orders.holds(ctx.config)
    return OrderList(orders=[orders.to_answer(o, hold) for o in await repo.orders_of_device(conn, device_id, limit)])


ROUTES = [
    put_product,
    get_product,
    put_stock,
    adjust_stock,
    get_ledger,
    import_stock,
    get_stock,
    get_alternatives,
    place_order,
    get_order,
    order_ready,
    order_collected,
    order_cancel,
    store_orders,
    device_orders,
]
