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
    ]
    assert sorted({r.status_code for r in answers}) == [200, 401, 404, 422]
    for r in answers:
        assert r.headers.get("x-content-type-options") == "nosniff", (r.request.url, r.status_code)


async def test_a_malformed_push_endpoint_is_a_422_naming_it(system: System) -> None:
    from tests.support.builders import shopper

    who = await shopper(system)
    body = {"endpoint": "https://[::1/x", "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}
    r = await system.notify.put(f"/v1/devices/{who.device_id}/push-subscription", json=body, headers=who.auth)
    assert r.status_code == 422 and r.json()["field"] == "endpoint", r.text
