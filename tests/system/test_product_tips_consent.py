"""Product tips, advice on a product the shopper collected, are a purpose of their own: asked like the
others, never given unless the shopper says so, explained by the notice, proven and exported."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import System
from tests.support.builders import Shopper, feed_until, shopper


async def answer(system: System, who: Shopper, **purposes: bool) -> httpx.Response:
    r = await system.notify.put(
        f"/v1/devices/{who.device_id}/consents",
        json={"policy_version": "2026-01", "purposes": purposes, "shown": "Advice on what you collected."},
        headers=who.auth,
    )
    assert r.status_code == 200, r.text
    return r


async def consents(system: System, who: Shopper) -> dict[str, Any]:
    r = await system.notify.get(f"/v1/devices/{who.device_id}/consents", headers=who.auth)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_new_device_has_not_given_product_tips_not_even_when_saying_yes_to_the_rest(system: System) -> None:
    who = await shopper(system)
    assert (await consents(system, who))["purposes"]["product_tips"] is False
    r = await answer(system, who, location=True, pickup_updates=True, offers=True)
    assert r.json()["purposes"] == {"location": True, "pickup_updates": True, "offers": True, "product_tips": False}


async def test_product_tips_alone_is_granted_and_withdrawn_leaving_the_rest_as_it_was(system: System) -> None:
    who = await shopper(system, location=True, pickup_updates=True, offers=False)
    r = await answer(system, who, product_tips=True)
    assert r.json()["purposes"] == {"location": True, "pickup_updates": True, "offers": False, "product_tips": True}
    assert r.json()["history"][-1]["purposes"]["product_tips"] is True

    # An answer that leaves it out leaves it as it was.
    r = await answer(system, who, offers=True)
    assert r.json()["purposes"] == {"location": True, "pickup_updates": True, "offers": True, "product_tips": True}

    # Withdrawn on its own, the others stay.
    r = await answer(system, who, product_tips=False)
    assert r.json()["purposes"] == {"location": True, "pickup_updates": True, "offers": True, "product_tips": False}
    assert [h["purposes"]["product_tips"] for h in r.json()["history"]] == [False, True, True, False]

    # Every change was told to the other services with the whole answer.
    def told(events: list[dict[str, Any]]) -> list[bool | None]:
        return [e["data"]["purposes"].get("product_tips") for e in events if e["device_id"] == who.device_id]

    events = await feed_until(system, lambda evs: len(told(evs)) >= 4, "notify")
    assert told(events) == [False, True, True, False]


async def test_a_product_tips_answer_of_the_wrong_type_is_refused_naming_it(system: System) -> None:
    who = await shopper(system)
    r = await system.notify.put(
        f"/v1/devices/{who.device_id}/consents",
        json={"policy_version": "2026-01", "purposes": {"product_tips": "yes"}},
        headers=who.auth,
    )
    assert r.status_code == 422 and "product_tips" in r.text, r.text
    assert (await consents(system, who)).get("history", []) == []  # nothing recorded


async def test_the_notice_explains_product_tips_in_both_languages(system: System) -> None:
    en = (await system.notify.get("/v1/privacy", params={"lang": "en"})).json()["purposes"]
    fr = (await system.notify.get("/v1/privacy", params={"lang": "fr"})).json()["purposes"]
    assert list(en) == ["location", "pickup_updates", "offers", "product_tips"]
    assert "product you collected" in en["product_tips"] and "no tip is sent" in en["product_tips"]
    assert "produit que vous avez retiré" in fr["product_tips"] and "aucun conseil" in fr["product_tips"]


async def test_the_export_holds_the_product_tips_answer_and_its_proof(system: System) -> None:
    who = await shopper(system, location=True)
    await answer(system, who, product_tips=True)
    r = await system.notify.get(f"/v1/devices/{who.device_id}/export", headers=who.auth)
    assert r.status_code == 200, r.text
    notify = r.json()["notify"]
    assert notify["consents"]["product_tips"] is True
    assert [h["purposes"]["product_tips"] for h in notify["consent_history"]] == [False, True]
    assert notify["consent_history"][-1]["shown"] == "Advice on what you collected."
