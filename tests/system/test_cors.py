"""Which pages of other origins may call a service: those of ACCUEIL_CORS_ORIGINS, and no other."""

from __future__ import annotations

from tests.conftest import System

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


async def test_the_shop_pages_origin_may_send_pings_with_its_token_and_read_retry_after(system: System) -> None:
    shop = system.settings.notify_url
    r = await system.geo.options("/v1/pings", headers={"Origin": shop, **PREFLIGHT})
    assert r.status_code == 204, r.text
    assert r.headers["access-control-allow-origin"] == shop
    assert {"authorization", "content-type"} <= {
        h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")
    }
    # An answer, a refusal included, is readable there, Retry-After with it.
    r = await system.geo.post("/v1/pings", json={"pings": []}, headers={"Origin": shop})
    assert r.status_code == 401
    assert r.headers["access-control-allow-origin"] == shop
    assert "retry-after" in r.headers["access-control-expose-headers"].lower()


async def test_a_page_of_any_other_origin_gets_no_cross_origin_answer(system: System) -> None:
    r = await system.inventory.options("/v1/orders", headers={"Origin": "https://elsewhere.example", **PREFLIGHT})
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers
    r = await system.inventory.get("/v1/products/none", headers={"Origin": "https://elsewhere.example"})
    assert r.status_code == 401 and "access-control-allow-origin" not in r.headers
