"""Native apps register an APNs or FCM token as their push target: what the server refuses before any
provider is involved."""

from __future__ import annotations

import pytest

from tests.support.builders import System, shopper

pytestmark = pytest.mark.asyncio


async def test_a_provider_this_server_is_not_configured_for_is_422_naming_provider(system: System) -> None:
    who = await shopper(system)
    for body in ({"provider": "apns", "token": "ab" * 32}, {"provider": "fcm", "token": "f" * 40 + ":APA91b"}):
        r = await system.notify.put(f"/v1/devices/{who.device_id}/push-token", json=body, headers=who.auth)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == "provider"


async def test_an_unknown_provider_or_a_missing_token_is_422_naming_the_field(system: System) -> None:
    who = await shopper(system)
    for body, field in (
        ({"provider": "wns", "token": "x" * 40}, "provider"),
        ({"provider": "fcm"}, "token"),
        ({"provider": "apns", "token": ""}, "token"),
    ):
        r = await system.notify.put(f"/v1/devices/{who.device_id}/push-token", json=body, headers=who.auth)
        assert r.status_code in (400, 422), r.text
        assert field in r.text


async def test_another_devices_token_cannot_be_set_or_removed(system: System) -> None:
    one = await shopper(system)
    other = await shopper(system)
    url = f"/v1/devices/{other.device_id}/push-token"
    r = await system.notify.put(url, json={"provider": "apns", "token": "ab" * 32}, headers=one.auth)
    assert r.status_code == 403
    assert (await system.notify.delete(url, headers=one.auth)).status_code == 403
