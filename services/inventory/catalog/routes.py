"""The catalogue's HTTP API."""

from __future__ import annotations

from litestar import get, put
from litestar.params import JSONBody

from services.inventory.catalog import service
from services.inventory.catalog.schemas import Product, ProductPut
from services.inventory.context import InventoryContext
from shared.auth import SERVICE_READS, Caller
from shared.context import FromContext
from shared.wire import PathId


@put("/v1/products/{sku:str}")
async def put_product(
    sku: PathId, data: JSONBody[ProductPut], principal: Caller, ctx: FromContext[InventoryContext]
) -> Product:
    principal.require_admin()
    return await service.put_product(ctx, sku, data)


@get("/v1/products/{sku:str}", opt={SERVICE_READS: ("notify",)})
async def get_product(sku: PathId, ctx: FromContext[InventoryContext]) -> Product:
    """Anyone with a token: a shop shows the product, a marketer picks it for a campaign, a store
    manager sets its stock."""
    return await service.get_product(ctx, sku)


ROUTES = [put_product, get_product]
