"""What offers and back-in-stock read from notify's replicas, inside their own transactions (each
function takes the caller's connection): no call to another service while a decision is taken."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.notify.replicas import repository as repo
from services.notify.replicas.products import ProductInfo, StockLevel
from shared.alternatives import Candidate, rank

UNKNOWN_STORE_TIMEZONE = "UTC"
"""A store notify has not heard of yet counts as UTC (see consumers.py, bootstrapping)."""


async def product_at(conn: asyncpg.Connection, store_id: str, sku: str) -> ProductInfo | None:
    """The product with its availability at the store, or None if the replica does not know it."""
    row = await repo.product_at(conn, store_id, sku)
    if row is None:
        return None
    return ProductInfo(sku=row["sku"], name=row["name"], available=row["available"], names=row["names"])


async def best_alternative(conn: asyncpg.Connection, store_id: str, sku: str) -> ProductInfo | None:
    """The in-stock product of the same category closest to this one: what inventory's
    GET /v1/stores/{store_id}/alternatives/{sku} puts first (the same ranking, shared.alternatives)."""
    wanted = await repo.product_at(conn, store_id, sku)
    if wanted is None:
        return None
    rows = {r["sku"]: r for r in await repo.available_products(conn, store_id, sku)}
    candidates = [Candidate(r["sku"], r["name"], r["category"], r["available"]) for r in rows.values()]
    ranked = rank(wanted["name"], wanted["category"], candidates, limit=1)
    if not ranked:
        return None
    best = ranked[0]
    return ProductInfo(sku=best.sku, name=best.name, available=best.available, names=rows[best.sku]["names"])


async def availability(conn: asyncpg.Connection, store_ids: list[str], skus: list[str]) -> dict[tuple[str, str], int]:
    """What each (store, SKU) asked about can be handed over; a product the replica does not know is absent."""
    return await repo.availability(conn, store_ids, skus)


async def stock_level(conn: asyncpg.Connection, store_id: str, sku: str) -> StockLevel | None:
    """The store's stock of the product and the event it is as of; None if the store never stocked it."""
    row = await repo.stock_row(conn, store_id, sku)
    return None if row is None else StockLevel(available=row["available"], event_id=row["event_id"])


async def product_known(conn: asyncpg.Connection, sku: str) -> bool:
    return await repo.product_known(conn, sku)


async def store_known(conn: asyncpg.Connection, store_id: str) -> bool:
    """geo published the store, or inventory stocks something there."""
    return await repo.store_known(conn, store_id)


@dataclass(frozen=True)
class StoreInfo:
    name: str
    """As a message's why says it: its id for a store notify has no name for yet, "" for no store."""
    timezone: str
    """Where a campaign's hours are read."""


async def store_of(conn: asyncpg.Connection, store_id: str | None) -> StoreInfo:
    """The store as notify's replica has it, in one read."""
    row = None if store_id is None else await repo.store(conn, store_id)
    name = (row and row["name"]) or store_id or ""
    return StoreInfo(name=name, timezone=(row and row["timezone"]) or UNKNOWN_STORE_TIMEZONE)
