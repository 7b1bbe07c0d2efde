"""What one service calls another with: a token that only reads what its service reads, and only for
minutes."""

from __future__ import annotations

from shared.auth import TokenSigner
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System


async def test_a_service_token_reads_but_never_writes_anywhere(system: System) -> None:
    token = system.running.state("geo").service_tokens.current()
    auth = System.bearer(token)
    assert (await system.inventory.get("/v1/orders/ord_none", headers=auth)).status_code == 404  # may look
    writes = [
        await system.inventory.put("/v1/stores/rivoli/stock/A", json={"on_hand": 9}, headers=auth),
        await system.inventory.post(
            "/v1/orders", json={"store_id": "rivoli", "lines": [{"sku": "A", "qty": 1}]}, headers=auth
        ),  # fmt: skip
        await system.geo.put("/v1/stores/rivoli", json={"name": "R", "lat": 48.86, "lng": 2.34}, headers=auth),
        await system.notify.delete("/v1/devices/dev_x", headers=auth),
    ]
    assert [r.status_code for r in writes] == [403] * 4
    assert all("may only read" in r.json()["detail"] for r in writes)


async def test_a_service_token_reads_only_what_its_service_reads(system: System) -> None:
    geo = System.bearer(system.running.state("geo").service_tokens.current())
    notify = System.bearer(system.running.state("notify").service_tokens.current())
    refused = [
        await system.notify.get("/v1/events", headers=geo),
        await system.inventory.get("/v1/devices/dev_x/orders", headers=geo),  # a shopper's export is notify's
        await system.geo.get("/v1/devices/dev_x/data", headers=geo),
        await system.inventory.get("/v1/orders/ord_none", headers=notify),  # the trip's check is geo's
        await system.geo.get("/v1/events", headers=notify),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert "not one geo makes" in refused[0].json()["detail"]
    assert (await system.geo.get("/v1/devices/dev_x/context", headers=notify)).status_code in (200, 404)
    assert (await system.inventory.get("/v1/orders/ord_none", headers=geo)).status_code == 404


async def test_a_service_token_lasts_minutes_and_an_expired_one_is_refused(system: System) -> None:
    import jwt

    token = system.running.state("notify").service_tokens.current()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["role"] == "service" and 0 < claims["exp"] - claims["iat"] <= 900
    expired = TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("service", "notify", ttl_s=-1)
    r = await system.geo.get("/v1/events", headers=System.bearer(expired))
    assert r.status_code == 401 and "expired" in r.json()["detail"]
