"""inventory's HTTP API (API.md, "inventory")."""

from __future__ import annotations

from litestar import get, put
from litestar.params import FromPath, FromQuery, JSONBody

from services.inventory import repository as repo
from services.inventory import stock
from services.inventory.alternatives import Candidate, rank
from services.inventory.schemas import (
    Alternative,
    AlternativeList,
    Product,
    ProductPut,
    StockItem,
    StockList,
    StockPut,
)
from shared.auth import Caller
from shared.db import Conn
from shared.errors import NotFound, TooLarge
from shared.wire import check_id

MAX_SKUS_PER_QUERY = 500


@put("/v1/products/{sku:str}")
async def put_product(sku: FromPath[str], data: JSONBody[ProductPut], conn: Conn, principal: Caller) -> Product:
    principal.require_admin()
    check_id(sku, "sku")
    await repo.upsert_product(conn, sku, data.name, data.category, data.names)
    return Product(sku=sku, name=data.name, category=data.category, names=data.names)


@get("/v1/products/{sku:str}")
async def get_product(sku: FromPath[str], conn: Conn) -> Product:
    row = await repo.get_product(conn, check_id(sku, "sku"))
    if row is None:
        raise NotFound(f"unknown sku {sku!r}", field="sku")
    return Product(sku=row["sku"], name=row["name"], category=row["category"], names=row["names"])


@put("/v1/stores/{store_id:str}/stock/{sku:str}")
async def put_stock(
    store_id: FromPath[str], sku: FromPath[str], data: JSONBody[StockPut], conn: Conn, principal: Caller
) -> StockItem:
    check_id(store_id, "store_id")
    check_id(sku, "sku")
    principal.require_store(store_id)
    row = await stock.set_on_hand(
        conn, store_id, sku, data.on_hand, reason=data.reason, actor=f"{principal.role}:{principal.subject}"
    )
    return StockItem(
        sku=sku, on_hand=row["on_hand"], reserved=row["reserved"], available=row["on_hand"] - row["reserved"]
    )


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
    return StockList(
        store_id=store_id,
        items=[
            StockItem(
                sku=r["sku"], on_hand=r["on_hand"], reserved=r["reserved"], available=r["on_hand"] - r["reserved"]
            )
            for r in rows
        ],
    )


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


ROUTES = [put_product, get_product, put_stock, get_stock, get_alternatives]
