"""inventory's tests' client: tokens for every kind of caller, and the few builders most of those tests
start from (the service itself runs in tests/service/inventory/conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx

from shared.auth import TokenSigner
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY

_signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(ADMIN_TOKEN)


def device(device_id: str) -> dict[str, str]:
    return bearer(_signer.issue("device", device_id))


def staff(store_id: str, staff_id: str = "stf_1") -> dict[str, str]:
    return bearer(_signer.issue("staff", staff_id, store_id=store_id))


def service(name: str = "geo") -> dict[str, str]:
    """The service's own token (where all three share one key, as here, any may be signed)."""
    return bearer(TokenSigner(TOKEN_KEY, ADMIN_TOKEN, issuer=name).issue("service", name))


class Inventory:
    """An HTTP client for the running service, with the few builders most tests start from."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def product(self, sku: str, name: str = "Oat milk 1L", category: str = "dairy", **extra: Any) -> None:
        r = await self.http.put(
            f"/v1/products/{sku}", json={"name": name, "category": category, **extra}, headers=ADMIN
        )
        assert r.status_code == 200, r.text

    async def stock(self, store_id: str, sku: str, on_hand: int) -> dict[str, Any]:
        r = await self.http.put(f"/v1/stores/{store_id}/stock/{sku}", json={"on_hand": on_hand}, headers=ADMIN)
        assert r.status_code == 200, r.text
        return r.json()

    async def available(self, store_id: str, sku: str) -> int:
        r = await self.http.get(f"/v1/stores/{store_id}/stock", params={"sku": sku}, headers=ADMIN)
        assert r.status_code == 200, r.text
        return r.json()["items"][0]["available"]

    async def order(
        self, device_id: str, store_id: str, lines: list[tuple[str, int]], key: str | None = None, **extra: Any
    ) -> httpx.Response:
        headers = device(device_id) | ({"Idempotency-Key": key} if key else {})
        body = {"store_id": store_id, "lines": [{"sku": s, "qty": q} for s, q in lines], **extra}
        return await self.http.post("/v1/orders", json=body, headers=headers)

    async def placed(self, device_id: str, store_id: str, lines: list[tuple[str, int]], **extra: Any) -> dict:
        r = await self.order(device_id, store_id, lines, **extra)
        assert r.status_code == 201, r.text
        return r.json()

    async def move(self, order_id: str, action: str, headers: dict[str, str], **body: Any) -> httpx.Response:
        return await self.http.post(f"/v1/orders/{order_id}/{action}", json=body or None, headers=headers)
