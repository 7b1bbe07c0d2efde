"""notify asks inventory over HTTP what a store can hand over. Any failure raises (PeerError): no
stock answer, no offer (the bus retries the event later)."""

from __future__ import annotations

from services.notify.context import NotifyContext
from services.notify.decide import ProductInfo
from shared import peers


class InventoryClient:
    def __init__(self, ctx: NotifyContext) -> None:
        self._ctx = ctx

    async def product_at(self, store_id: str, sku: str) -> ProductInfo | None:
        """The product with its availability at the store, or None if inventory does not know it."""
        status, product = await peers.get_json(self._ctx, "inventory", f"/v1/products/{sku}")
        if status == 404:
            return None
        _, stock = await peers.get_json(self._ctx, "inventory", f"/v1/stores/{store_id}/stock", sku=sku)
        items = stock["items"]
        available = items[0]["available"] if items else 0
        return ProductInfo(sku=sku, name=product["name"], available=available, names=product.get("names", {}))

    async def best_alternative(self, store_id: str, sku: str) -> ProductInfo | None:
        status, body = await peers.get_json(self._ctx, "inventory", f"/v1/stores/{store_id}/alternatives/{sku}")
        if status == 404 or not body["items"]:
            return None
        best = body["items"][0]
        return ProductInfo(sku=best["sku"], name=best["name"], available=best["available"], names=best.get("names", {}))
