"""notify asks inventory over HTTP what a store can hand over. Any failure raises: no stock answer,
no offer (the bus retries the event later)."""

from __future__ import annotations

import httpx

from services.notify.decide import ProductInfo


class InventoryClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    async def _get(self, path: str, **params: str) -> httpx.Response:
        response = await self._http.get(f"{self._base}{path}", params=params, headers=self._headers)
        if response.status_code not in (200, 404):
            response.raise_for_status()
        return response

    async def product_at(self, store_id: str, sku: str) -> ProductInfo | None:
        """The product with its availability at the store, or None if inventory does not know it."""
        product = await self._get(f"/v1/products/{sku}")
        if product.status_code == 404:
            return None
        stock = await self._get(f"/v1/stores/{store_id}/stock", sku=sku)
        stock.raise_for_status()
        items = stock.json()["items"]
        available = items[0]["available"] if items else 0
        p = product.json()
        return ProductInfo(sku=sku, name=p["name"], available=available, names=p.get("names", {}))

    async def best_alternative(self, store_id: str, sku: str) -> ProductInfo | None:
        response = await self._get(f"/v1/stores/{store_id}/alternatives/{sku}")
        if response.status_code == 404:
            return None
        items = response.json()["items"]
        if not items:
            return None
        best = items[0]
        return ProductInfo(sku=best["sku"], name=best["name"], available=best["available"], names=best.get("names", {}))
