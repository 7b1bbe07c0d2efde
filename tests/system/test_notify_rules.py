"""The decision rules through the three running services: nothing twice, frequency caps, quiet hours,
the device's language."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.notify.offers.jobs import release_held
from services.notify.settings import NotifySettings
from tests.conftest import System, eventually
from tests.support.builders import (
    EVERY_PURPOSE,
    NIGHT,
    TEXTS,
    Shopper,
    campaign,
    enter,
    leave,
    messages,
    notify_sees,
    settled,
    shop,
    shopper,
    walk_in,
)
from tests.support.push_service import LocalPushService

NAMES = {"YOG-1": {"fr": "Yaourt nature", "en": "Plain yoghurt"}, "YOG-2": {"fr": "Yaourt bio"}}


async def held_offer(system: System, push: LocalPushService) -> tuple[Shopper, dict]:
    """A shopper walks into the store at night: the welcome offer is held (shopper, message)."""
    await shop(system, ("YOG-1", "Plain yoghurt", 5), names=NAMES)
    await campaign(system, "welcome", "YOG-1")
    who = await shopper(system, push, hour=NIGHT, **EVERY_PURPOSE)
    await enter(system, who)
    [held] = await eventually(lambda: messages(system, who))
    return who, held


async def test_the_same_product_twice_in_one_visit_is_said_once(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    await campaign(system, "a-welcome", "YOG-1")
    await campaign(system, "b-yoghurt-week", "YOG-1")
    who = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, who)

    first, second = await settled(system, who, 2)
    assert (first["campaign_id"], first["status"]) == ("a-welcome", "sent")
    assert (second["campaign_id"], second["status"], second["reason"]) == ("b-yoghurt-week", "suppressed", "duplicate")
    assert len(push.received(who.sub)) == 1


async def test_a_second_offer_at_the_same_store_the_same_day_is_capped(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5), ("YOG-2", "Organic yoghurt", 5))
    await campaign(system, "a-yoghurt", "YOG-1")
    await campaign(system, "b-organic", "YOG-2")
    who = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, who)

    first, second = await settled(system, who, 2)
    assert first["status"] == "sent"
    assert (second["status"], second["reason"], second["sku"]) == ("suppressed", "frequency_cap", "YOG-2")
    assert [p.payload["sku"] for p in push.received(who.sub)] == ["YOG-1"]


@pytest.mark.parametrize("configs", [{"notify": NotifySettings(offers_per_store_day=10, offers_per_week=2)}])
async def test_caps_are_configurable_and_the_weekly_cap_holds(system: System, push: LocalPushService) -> None:
    await shop(system, *((f"SKU-{i}", f"Product {i}", 5) for i in range(3)))
    for i in range(3):
        await campaign(system, f"c{i}", f"SKU-{i}")
    who = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, who)

    decided = await settled(system, who, 3)
    assert [(m["status"], m.get("reason")) for m in decided] == [
        ("sent", None),
        ("sent", None),
        ("suppressed", "frequency_cap"),
    ]


async def test_an_offer_at_night_is_held_not_pushed(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    await campaign(system, "welcome", "YOG-1")
    who = await shopper(system, push, hour=NIGHT, **EVERY_PURPOSE)
    await enter(system, who)

    [held] = await eventually(lambda: messages(system, who))
    assert (held["status"], held["reason"]) == ("held", "quiet_hours")
    send_after = datetime.fromisoformat(held["send_after"])
    assert timedelta(hours=5) < send_after - datetime.fromisoformat(held["decided_at"]) <= timedelta(hours=6)
    assert push.pushes == []


async def test_a_held_offer_is_sent_when_quiet_hours_end_if_the_shopper_is_still_there(
    system: System, push: LocalPushService
) -> None:
    who, held = await held_offer(system, push)

    morning = datetime.fromisoformat(held["send_after"]) + timedelta(seconds=30)
    assert await release_held(system.running.state("notify"), morning) == 1

    [message] = await settled(system, who)
    assert message["status"] == "sent" and message["body"] == "Yaourt nature à -20 % aujourd'hui"
    assert len(push.inbox(who.sub)) == 1


async def test_a_held_offer_is_dropped_if_the_shopper_has_left_the_store(
    system: System, push: LocalPushService
) -> None:
    who, held = await held_offer(system, push)
    await leave(system, who)

    morning = datetime.fromisoformat(held["send_after"]) + timedelta(seconds=30)
    await release_held(system.running.state("notify"), morning)

    [message] = await messages(system, who)
    assert (message["status"], message["reason"], message.get("body")) == ("suppressed", "quiet_hours", None)
    assert push.pushes == []


async def test_a_held_offer_is_not_sent_once_the_offers_consent_is_withdrawn(
    system: System, push: LocalPushService
) -> None:
    who, held = await held_offer(system, push)
    r = await system.notify.put(
        f"/v1/devices/{who.device_id}/consents",
        json={"policy_version": "2026-01", "purposes": {"offers": False}},
        headers=who.auth,
    )
    assert r.status_code == 200

    morning = datetime.fromisoformat(held["send_after"]) + timedelta(seconds=30)
    await release_held(system.running.state("notify"), morning)

    async def settled_message() -> dict | None:
        [message] = await messages(system, who)
        return message if message["status"] != "pending" else None

    message = await eventually(settled_message)  # the sender, woken by the release, decides
    assert (message["status"], message["reason"]) == ("suppressed", "no_consent")
    assert push.pushes == []


async def test_a_held_offer_for_a_product_gone_out_of_stock_is_dropped(system: System, push: LocalPushService) -> None:
    who, held = await held_offer(system, push)
    r = await system.inventory.put("/v1/stores/rivoli/stock/YOG-1", json={"on_hand": 0}, headers=system.admin)
    assert r.status_code == 200
    await notify_sees(system, "rivoli", "YOG-1", 0)  # the release decides on notify's replica

    morning = datetime.fromisoformat(held["send_after"]) + timedelta(seconds=30)
    assert await release_held(system.running.state("notify"), morning) == 1

    [message] = await messages(system, who)
    assert (message["status"], message["reason"]) == ("suppressed", "out_of_stock")
    assert push.pushes == []


async def test_a_held_offer_waits_until_the_end_of_quiet_hours(system: System, push: LocalPushService) -> None:
    who, held = await held_offer(system, push)

    just_before = datetime.fromisoformat(held["send_after"]) - timedelta(seconds=30)
    assert await release_held(system.running.state("notify"), just_before) == 0
    assert (await messages(system, who))[0]["status"] == "held"


async def test_each_shopper_reads_the_offer_in_their_language_with_the_products_name_in_it(
    system: System, push: LocalPushService
) -> None:
    await shop(system, ("YOG-1", "Yoghurt", 5), names=NAMES)
    await campaign(system, "welcome", "YOG-1", **TEXTS)
    readers = {
        locale: await shopper(system, push, locale=locale, **EVERY_PURPOSE) for locale in ("fr-CA", "en-GB", "de-DE")
    }
    for who in readers.values():
        await enter(system, who)

    said = {}
    for locale, who in readers.items():
        await settled(system, who)
        [received] = push.received(who.sub)
        said[locale] = (received.payload["lang"], received.payload["body"])
    assert said == {
        "fr-CA": ("fr", "Yaourt nature à -20 % aujourd'hui"),
        "en-GB": ("en", "Plain yoghurt at 20% off today"),
        "de-DE": ("en", "Plain yoghurt at 20% off today"),
    }


async def test_a_campaign_may_ask_for_a_confident_visit(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5), ("YOG-2", "Organic yoghurt", 5))
    body = {"trigger": {"type": "zone.entered", "zone_kind": "store", "min_confidence": 0.99}, "sku": "YOG-2",
            "message": TEXTS}  # fmt: skip
    r = await system.notify.put("/v1/campaigns/sure-only", json=body, headers=system.admin)
    assert r.status_code == 200 and r.json()["trigger"]["min_confidence"] == 0.99
    bad = {**body, "trigger": {**body["trigger"], "min_confidence": 1.5}}
    r = await system.notify.put("/v1/campaigns/sure-only", json=bad, headers=system.admin)
    assert r.status_code == 422 and "min_confidence" in r.json()["field"]
    await campaign(system, "any", "YOG-1")
    who = await shopper(system, push, **EVERY_PURPOSE)
    # A walk in with a poor fix (30 m): entered, but not beyond doubt.
    poor = [{**p, "accuracy_m": 30} for p in walk_in()]
    r = await system.geo.post("/v1/pings", json={"pings": poor}, headers=who.auth)
    [entered] = [e for e in r.json()["events"] if e["type"] == "zone.entered"]
    assert 0.5 < entered["data"]["confidence"] < 0.99
    found = {m["campaign_id"]: m for m in await settled(system, who, 2)}
    assert found["any"]["status"] == "sent"
    assert (found["sure-only"]["status"], found["sure-only"]["reason"]) == ("suppressed", "low_confidence")
