"""Stock's HTTP API."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post, put
from litestar.params import JSONBody, Parameter

from services.inventory.context import InventoryContext
from services.inventory.stock import importing, service
from services.inventory.stock.ledger import actor
from services.inventory.stock.schemas import (
    AlternativeList,
    ImportResult,
    Ledger,
    StockAdjust,
    StockItem,
    StockList,
    StockPut,
)
from shared.auth import Caller
from shared.context import FromContext
from shared.errors import ApiError, Invalid, TooLarge, errors
from shared.openapi import raw_body
from shared.wire import ID, MAX_ID, PathId, QueryId, check_id, comma_separated

MAX_SKUS_PER_QUERY = 500
MAX_STOCK_PAGE = 500
MAX_IMPORT_BYTES = 32 * 1024 * 1024
SkuList = Annotated[
    str | None,
    Parameter(
        description=f"comma-separated SKUs, at most {MAX_SKUS_PER_QUERY} different ones",
        schema_extra={"pattern": comma_separated(ID, at_least_one=False)},
    ),
]


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


@put("/v1/stores/{store_id:str}/stock/{sku:str}", responses=errors(409))
async def put_stock(
    store_id: PathId,
    sku: PathId,
    data: JSONBody[StockPut],
    principal: Caller,
    ctx: FromContext[InventoryContext],
) -> StockItem:
    principal.require_store(store_id)
    return await service.set_on_hand(ctx, store_id, sku, data.on_hand, reason=data.reason, actor=actor(principal))


@post("/v1/stores/{store_id:str}/stock/{sku:str}/adjustments", status_code=200, responses=errors(409))
async def adjust_stock(
    store_id: PathId,
    sku: PathId,
    data: JSONBody[StockAdjust],
    principal: Caller,
    ctx: FromContext[InventoryContext],
) -> StockItem:
    """A relative change with its reason: a delivery (+12), a breakage (-1). 409 if it would leave
    less on hand than orders have reserved."""
    principal.require_store(store_id)
    if data.delta == 0:
        raise Invalid("delta must not be 0", field="delta")
    return await service.adjust(ctx, store_id, sku, data.delta, reason=data.reason, actor=actor(principal))


@get("/v1/stores/{store_id:str}/stock/{sku:str}/ledger")
async def get_ledger(
    store_id: PathId,
    sku: PathId,
    principal: Caller,
    ctx: FromContext[InventoryContext],
    before: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> Ledger:
    """Every change of on_hand, newest first: who, when, why, before and after."""
    principal.require_store(store_id)
    return await service.ledger(ctx, store_id, sku, before, limit)


@post(
    "/v1/stock/import",
    status_code=200,
    request_max_body_size=MAX_IMPORT_BYTES,
    responses=errors(409, 415),
    opt=raw_body({"application/json": importing.JSON_SCHEMA, "text/csv": importing.CSV_SCHEMA}),
)
async def import_stock(
    request: Request[Any, Any, Any], principal: Caller, ctx: FromContext[InventoryContext]
) -> ImportResult:
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
    return await service.import_rows(ctx, parsed, actor=actor(principal))


@get("/v1/stores/{store_id:str}/stock", responses=errors(413))
async def get_stock(
    store_id: PathId,
    principal: Caller,
    ctx: FromContext[InventoryContext],
    sku: SkuList = None,
    after: QueryId = None,
    limit: Annotated[int, Parameter(ge=1, le=MAX_STOCK_PAGE)] = MAX_STOCK_PAGE,
) -> StockList:
    """Anyone with a token may ask (availability is what a shop window shows), but of the operators
    only an admin and the store's managers. Without `sku`, the whole store a page at a time, by SKU:
    `after` is the `next_after` of the page before."""
    principal.limit_operators("store_manager", store_id=store_id)
    skus = None
    if sku is not None:
        skus = list(dict.fromkeys(s.strip() for s in sku.split(",") if s.strip()))
        if len(skus) > MAX_SKUS_PER_QUERY:
            raise TooLarge(f"at most {MAX_SKUS_PER_QUERY} SKUs per query", field="sku")
        for s in skus:
            check_id(s, "sku")
    return await service.stock_of_store(ctx, store_id, skus, after, limit)


@get("/v1/stores/{store_id:str}/alternatives/{sku:str}")
async def get_alternatives(
    store_id: PathId,
    sku: PathId,
    principal: Caller,
    ctx: FromContext[InventoryContext],
    limit: Annotated[int, Parameter(ge=1, le=50)] = 10,
) -> AlternativeList:
    """In-stock products of the same category at that store, most alike first: the best `limit`. Who
    may read the store's stock may ask."""
    principal.limit_operators("store_manager", store_id=store_id)
    return await service.alternatives(ctx, store_id, sku, limit)


ROUTES = [put_stock, adjust_stock, get_ledger, import_stock, get_stock, get_alternatives]
