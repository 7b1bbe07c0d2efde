"""The catalogue's HTTP API."""

from __future__ import annotations

from typing import Annotated

from litestar import get, put
from litestar.params import JSONBody, Parameter

from services.inventory.catalog import service
from services.inventory.catalog.schemas import Product, ProductList, ProductPut
from services.inventory.context import InventoryContext
from shared.auth import SERVICE_READS, Caller
from shared.context import FromContext
from shared.wire import END, PathId, QueryId


@put("/v1/products/{sku:str}")
async def put_product(
    sku: PathId, data: JSONBody[ProductPut], principal: Caller, ctx: FromContext[InventoryContext]
) -> Product:
    principal.require_admin()
    return await service.put_product(ctx, sku, data)


@get("/v1/products")
async def search_products(
    ctx: FromContext[InventoryContext],
    q: Annotated[
        str,
        Parameter(
            max_length=100,
            pattern=rf"^[^\u0000-\u001f\u007f]*{END}",  # text as typed in a search box: no control character
            description="a SKU's start, or words of a name",
        ),
    ] = "",
    after: QueryId = None,
    limit: Annotated[int, Parameter(ge=1, le=50)] = 20,
) -> ProductList:
    """The catalogue, searched: what the console offers when a campaign names its product."""
    return await service.search_products(ctx, q, after, limit)


@get("/v1/products/{sku:str}", opt={SERVICE_READS: ("notify",)})
async def get_product(sku: PathId, ctx: FromContext[InventoryContext]) -> Product:
    """Anyone with a token: a shop shows the product, a marketer picks it for a campaign, a store
    manager sets its stock."""
    return await service.get_product(ctx, sku)


ROUTES = [put_product, search_products, get_product]
