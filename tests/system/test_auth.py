"""Tokens across the three running services: one notify issues is good everywhere, and none opens what
its role may not (the signing and checking alone: tests/unit/shared/test_auth.py)."""

from __future__ import annotations

from tests.conftest import System
from tests.support.builders import shopper


async def test_every_service_refuses_a_missing_or_bad_token_with_401(system: System) -> None:
    for client in (system.geo, system.inventory, system.notify):
        assert (await client.get("/v1/events")).status_code == 401
        bad = await client.get("/v1/events", headers=System.bearer("not-a-token"))
        assert bad.status_code == 401 and bad.json()["error"] == "unauthorized"


async def test_a_token_from_notify_is_accepted_by_geo_and_inventory(system: System) -> None:
    auth = (await shopper(system, location=True)).auth
    assert (await system.inventory.get("/v1/stores/rivoli/stock", headers=auth)).status_code == 200
    r = await system.geo.post("/v1/pings", json={"pings": []}, headers=auth)
    assert r.status_code == 200


async def test_a_device_reading_another_devices_consents_gets_403(system: System) -> None:
    device_a = (await shopper(system)).device_id
    auth_b = (await shopper(system)).auth
    r = await system.notify.get(f"/v1/devices/{device_a}/consents", headers=auth_b)
    assert r.status_code == 403


async def test_a_device_cannot_do_what_only_the_admin_may(system: System) -> None:
    auth = (await shopper(system)).auth
    r = await system.geo.put("/v1/stores/s1", json={"name": "x", "lat": 1, "lng": 1}, headers=auth)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
