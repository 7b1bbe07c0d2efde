"""Consent receipts: each answer a device gave comes with a receipt it can keep, signed by notify, that
another JOSE library than ours verifies from the published JWKS alone, before and after a rotation."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
from joserfc import jws
from joserfc.jwk import KeySet

from tests.conftest import System
from tests.support.builders import shopper


def verified(receipt: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The receipt's claims, verified by joserfc with the key its `kid` names in the JWKS."""
    obj = jws.deserialize_compact(receipt, KeySet.import_key_set(jwks), algorithms=["Ed25519"])
    claims: dict[str, Any] = json.loads(obj.payload)
    return claims


async def public_jwks(system: System) -> dict[str, Any]:
    async with httpx.AsyncClient() as anyone:  # no token: a receipt is checked by whoever it is shown to
        r = await anyone.get(f"{system.settings.notify_url}/.well-known/jwks.json")
    assert r.status_code == 200, r.text
    return r.json()


async def test_each_answer_has_a_receipt_that_verifies_from_the_jwks_and_matches_it(system: System) -> None:
    device = await shopper(system, pickup_updates=True)
    for purposes in ({"offers": True, "location": True}, {"offers": False}):
        r = await system.notify.put(
            f"/v1/devices/{device.device_id}/consents",
            json={"policy_version": "2026-12", "purposes": purposes, "shown": "the notice"},
            headers=device.auth,
        )
        assert r.status_code == 200, r.text
    history = (await system.notify.get(f"/v1/devices/{device.device_id}/consents", headers=device.auth)).json()[
        "history"
    ]
    assert len(history) == 3
    jwks = await public_jwks(system)
    ids = set()
    for entry in history:
        claims = verified(entry["receipt"], jwks)
        assert claims["schema"] == "ISO/IEC TS 27560:2023"
        assert claims["pii_principal_id"] == device.device_id
        assert claims["purposes"] == entry["purposes"] and claims["policy_version"] == entry["policy_version"]
        assert datetime.fromisoformat(claims["timestamp"]) == datetime.fromisoformat(entry["at"])
        assert claims["controller"] == {"name": "accueil"} and claims["jurisdiction"] == "EU"
        assert "(web)" in claims["collection_method"]
        ids.add(claims["receipt_id"])
    assert len(ids) == len(history)  # one receipt per answer
    assert history[-1]["purposes"]["offers"] is False  # the withdrawal has its receipt too
    altered = history[-1]["receipt"].split(".")
    altered[1] = altered[1][:-2] + ("AA" if altered[1][-2:] != "AA" else "BB")
    try:
        verified(".".join(altered), jwks)
    except Exception:  # noqa: BLE001 (joserfc's own error for a bad signature or payload)
        pass
    else:
        raise AssertionError("an altered receipt verified")


async def test_a_receipt_kept_from_before_a_key_rotation_still_verifies(system: System) -> None:
    device = await shopper(system, location=True)
    before = (await system.notify.get(f"/v1/devices/{device.device_id}/consents", headers=device.auth)).json()
    kept = before["history"][0]["receipt"]
    old_kid = (await public_jwks(system))["keys"][0]["kid"]

    await system.running.restart_on_version(2)

    jwks = await public_jwks(system)
    assert [k["kid"] for k in jwks["keys"]][1:] == [old_kid]  # the new key first, the old one kept
    assert verified(kept, jwks)["pii_principal_id"] == device.device_id
    # The device's token was signed under version 1 too: a new one is needed to read again.
    assert (await system.notify.get(f"/v1/devices/{device.device_id}/consents", headers=device.auth)).status_code == 401
