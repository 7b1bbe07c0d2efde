"""Headers every answer carries, whatever its status."""

from __future__ import annotations

from tests.conftest import System


async def test_every_answer_says_its_type_is_not_to_be_sniffed(system: System) -> None:
    answers = [
        await system.geo.get("/healthz"),
        await system.geo.get("/v1/events", headers=system.admin),
        await system.geo.get("/v1/events"),  # 401
        await system.inventory.get("/v1/products/none", headers=system.admin),  # 404
        await system.inventory.put("/v1/products/A", json={"name": 4}, headers=system.admin),  # 422
        await system.notify.get("/v1/privacy"),
        await system.notify.get("/staff"),
        await system.notify.get("/shop"),
        await system.notify.get("/sdk/accueil-sw.js"),
    ]
    assert sorted({r.status_code for r in answers}) == [200, 401, 404, 422]
    for r in answers:
        assert r.headers.get("x-content-type-options") == "nosniff", (r.request.url, r.status_code)


async def test_the_shop_page_may_connect_to_notify_geo_and_inventory_and_nowhere_else(system: System) -> None:
    r = await system.notify.get("/shop")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = dict(part.strip().split(" ", 1) for part in r.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'self'"
    assert set(policy["connect-src"].split()) == {"'self'", system.settings.geo_url, system.settings.inventory_url}
    config = (await system.notify.get("/shop/config.json")).json()
    assert config == {"geo": system.settings.geo_url, "inventory": system.settings.inventory_url}
    assert (await system.notify.get("/sdk/nothing.js")).status_code == 404


async def test_a_malformed_push_endpoint_is_a_422_naming_it(system: System) -> None:
    from tests.support.builders import shopper

    who = await shopper(system)
    body = {"endpoint": "https://[::1/x", "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}
    r = await system.notify.put(f"/v1/devices/{who.device_id}/push-subscription", json=body, headers=who.auth)
    assert r.status_code == 422 and r.json()["field"] == "endpoint", r.text
