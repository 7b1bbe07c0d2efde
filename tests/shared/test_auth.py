from __future__ import annotations

import jwt
import pytest

from shared.auth import TokenSigner
from shared.errors import Forbidden, Unauthorized
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System
from tests.support.builders import shopper

signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)


def test_a_device_token_names_its_device() -> None:
    principal = signer.verify(signer.issue("device", "dev_1"))
    assert principal.role == "device" and principal.subject == "dev_1"


def test_a_token_signed_with_another_key_is_refused() -> None:
    forged = TokenSigner("another-key-" + "x" * 40, ADMIN_TOKEN).issue("device", "dev_1")
    with pytest.raises(Unauthorized, match="invalid"):
        signer.verify(forged)


def test_an_expired_token_is_refused() -> None:
    with pytest.raises(Unauthorized, match="expired"):
        signer.verify(signer.issue("device", "dev_1", ttl_s=-10))


def test_a_token_with_an_admin_role_claim_is_not_admin() -> None:
    claims = {"iss": "accueil", "sub": "me", "role": "admin", "iat": 0}
    with pytest.raises(Unauthorized):
        signer.verify(jwt.encode(claims, TOKEN_KEY, algorithm="HS256"))


def test_a_device_may_act_on_itself_only() -> None:
    device = signer.verify(signer.issue("device", "dev_1"))
    device.require_device("dev_1")
    with pytest.raises(Forbidden):
        device.require_device("dev_2")
    with pytest.raises(Forbidden):
        device.require_admin()


def test_staff_may_act_on_their_own_store_only() -> None:
    staff = signer.verify(signer.issue("staff", "st_1", store_id="rivoli"))
    staff.require_store("rivoli")
    with pytest.raises(Forbidden):
        staff.require_store("opera")
    assert staff.can_see("dev_1", "rivoli") and not staff.can_see("dev_1", "opera")


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
