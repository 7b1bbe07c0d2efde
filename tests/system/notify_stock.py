"""notify decides offers from its own replica of inventory's stock and catalogue, fed by inventory's
events: builders that put a product and its stock through inventory's API, then wait until notify's
replica has them, so that a shopper who walks in next is decided on them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared import bus
from shared.db import connect
from shared.events import ProductChanged, ProductData
from tests.conftest import System, eventually


async def _product_events(system: System, sku: str) -> int:
    conn = await connect(system.settings.database_url)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM bus.events WHERE type = 'product.changed' AND data ->> 'sku' = $1", sku
        )
    finally:
        await conn.close()


async def put_product(system: System, sku: str, body: dict[str, Any]) -> None:
    """PUT /v1/products/{sku}, and the `product.changed` it publishes. inventory starts publishing it
    in parallel work: until it does, the event is published here in its place (the same payload), and
    not once inventory's own is there."""
    before = await _product_events(system, sku)
    r = await system.inventory.put(f"/v1/products/{sku}", json=body, headers=system.admin)
    assert r.status_code == 200, r.text
    if await _product_events(system, sku) > before:
        return
    product = r.json()
    data = ProductData(sku=sku, name=product["name"], category=product["category"], names=product.get("names") or {})
    conn = await connect(system.settings.database_url)
    try:
        async with conn.transaction():
            await bus.publish(conn, "inventory", [ProductChanged(ts=datetime.now(UTC), data=data)])
    finally:
        await conn.close()


async def replica_of(system: System, store_id: str, sku: str) -> dict[str, Any] | None:
    """The product and its stock at the store as notify's replica has them (None: unknown product)."""
    conn = await connect(system.settings.database_url)
    try:
        row = await conn.fetchrow(
            """
            SELECT p.sku, p.name, p.category, s.available, s.on_hand
            FROM notify.products p LEFT JOIN notify.stock s ON s.store_id = $1 AND s.sku = p.sku
            WHERE p.sku = $2
            """,
            store_id,
            sku,
        )
        return dict(row) if row else None
    finally:
        await conn.close()


async def notify_sees(system: System, store_id: str, sku: str, available: int) -> dict[str, Any]:
    """Wait until notify's replica has the product with this availability at the store."""

    async def probe() -> dict[str, Any] | None:
        row = await replica_of(system, store_id, sku)
        return row if row is not None and row["available"] == available else None

    return await eventually(probe)


async def stock_product(
    system: System, sku: str, name: str, on_hand: int, *, store_id: str = "rivoli", **product: Any
) -> None:
    """A product (category `dairy` unless given) with `on_hand` units at the store, as notify sees it."""
    await put_product(system, sku, {"name": name, "category": "dairy", **product})
    r = await system.inventory.put(
        f"/v1/stores/{store_id}/stock/{sku}", json={"on_hand": on_hand}, headers=system.admin
    )
    assert r.status_code == 200, r.text
    await notify_sees(system, store_id, sku, on_hand)
