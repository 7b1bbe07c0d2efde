"""The catalogue's HTTP API."""

from __future__ import annotations

from litestar import get, put
from litestar.params import FromPath, JSONBody

from services.inventory.catalog import service
from services.inventory.catalog.schemas import Product, ProductPut
from services.inventory.context import InventoryContext
from shared.auth import Caller
from shared.context import FromContext
from shared.wire import check_id


@put("/v1/products/{sku:str}")
async def put_product(
    sku: FromPath[str], data: JSONBody[ProductPut], principal: Caller, ctx: FromContext[InventoryContext]
) -> Product:
    principal.require_admin()
    return await service.put_product(ctx, check_id(sku, "sku"), data)


@get("/v1/products/{sku:str}")
async def get_product(sku: FromPath[str], ctx: FromContext[InventoryContext]) -> Product:
    return await service.get_product(ctx, check_id(sku, "sku"))


ROUTES = [put_product, get_product]
