"""Journeys through the running services: a device enters on its zone event, waits, branches on where
it is and on what it did, and is sent a journey's message by the same rules as a campaign's; the
control arm is never sent an offer; results add up to what the devices did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.conftest import System, eventually
from tests.support.builders import (
    EVERY_PURPOSE,
    Shopper,
    customer,
    enter,
    messages,
    notify_sees,
    pickup_store,
    place_order,
    settled,
    shop,
    shopper,
    upload,
    walk_in,
)
from tests.support.journeys import (
    COMPOST,
    SMALL_COMPOST,
    enrolled,
    event_of,
    exited,
    garden_journey,
    garden_store,
    into_garden,
    minutes_ago,
    out_of_garden,
    phone,
    results,
    saved,
    welcome,
)
from tests.support.push_service import LocalPushService

WITHIN = timedelta(seconds=5)
"""How soon the API says an event, a withdrawal or the journey's end moves a device on."""


async def test_a_device_walks_in_waits_and_is_sent_the_journeys_offer(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    journey = await saved(system, "welcome", welcome())
    assert journey["version"] == 1
    who = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, who)

    enrollment = await exited(system, who, "welcome")
    assert (enrollment["exit_reason"], enrollment["arm"]) == ("completed", "treatment")
    [message] = await settled(system, who)
    assert message["journey_id"] == "welcome" and message["step"] == "offer"
    assert message["status"] == "sent", message
    found = await results(system, "welcome")
    assert found["entered"] == {"treatment": 1, "control": 0}
    assert found["steps"]["offer"]["reached"] == 1 and found["steps"]["offer"]["sent"] == 1
    assert found["exits"] == {"completed": 1}


# ---------------------------------------------------------------------- the garden journey


async def into_the_garden(system: System, who: Shopper, seed: int, minutes: float = 7) -> list[dict[str, Any]]:
    """The shopper's phone walks into the garden department (fixes from `minutes` ago); its fixes."""
    fixes = into_garden(phone(seed), minutes_ago(minutes))
    answer = await upload(system, who, fixes)
    assert event_of(answer, "zone.entered", "garden")
    return fixes


async def stock(system: System, sku: str, on_hand: int) -> None:
    """Set through inventory, and seen by notify's replica."""
    r = await system.inventory.put(f"/v1/stores/rivoli/stock/{sku}", json={"on_hand": on_hand}, headers=system.admin)
    assert r.status_code == 200, r.text
    await notify_sees(system, "rivoli", sku, on_hand)


async def garden_shopper(
    system: System,
    push: LocalPushService,
    db: asyncpg.Connection,
    journey: dict[str, Any],
    *products: tuple[str, str, int],
) -> Shopper:
    """The shop with its garden department and products (40 L compost by default), the garden journey,
    and a shopper who consents to everything, not yet there."""
    await garden_store(system, db, *(products or [(COMPOST, "Compost 40 L", 10)]))
    await saved(system, "garden", journey)
    return await shopper(system, push, **EVERY_PURPOSE)


async def test_a_shopper_who_orders_while_the_journey_waits_is_sent_nothing_and_converts(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who = await garden_shopper(system, push, db, garden_journey(order_within="PT30S"))
    await into_the_garden(system, who, seed=1)

    await enrolled(system, who, "garden", step="order")  # still in the garden after the look: waits for an order
    ordered_at = datetime.now(UTC)
    await place_order(system, who, sku=COMPOST)

    left = await exited(system, who, "garden")
    assert (left["step"], left["exit_reason"]) == ("end", "completed")
    assert datetime.fromisoformat(left["exited_at"]) - ordered_at <= WITHIN
    assert [m for m in await messages(system, who) if m.get("journey_id")] == []
    found = await results(system, "garden")
    assert found["goal"]["treatment"] == {"entered": 1, "converted": 1, "rate": 1.0}
    assert found["goal"]["uplift"] is None  # nobody in the control arm
    assert {step: s["reached"] for step, s in found["steps"].items()} == {
        "look": 1,
        "still": 1,
        "order": 1,
        "offer": 0,
        "end": 1,
    }
    assert found["steps"]["offer"]["sent"] == 0 and found["exits"] == {"completed": 1}


async def test_a_shopper_who_stays_in_the_garden_without_ordering_is_sent_one_offer(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who = await garden_shopper(system, push, db, garden_journey())
    await into_the_garden(system, who, seed=2)

    left = await exited(system, who, "garden")
    assert (left["step"], left["exit_reason"]) == ("offer", "completed")
    [message] = await settled(system, who)
    assert (message["journey_id"], message["step"], message["status"]) == ("garden", "offer", "sent")
    assert (message["sku"], message["title"], message["body"]) == (COMPOST, "Au jardin", "Compost 40 L en stock ici")
    [pushed] = push.received(who.sub)  # to the device's own push target, once
    assert pushed.payload["id"] == message["id"] and pushed.payload["body"] == message["body"]
    found = await results(system, "garden")
    assert found["steps"]["offer"] == {"reached": 1, "sent": 1, "pending": 0, "failed": 0, "suppressed": {}}
    assert found["goal"]["treatment"] == {"entered": 1, "converted": 0, "rate": 0.0}


async def test_an_offer_whose_product_ran_out_is_about_the_alternative_or_is_not_made(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    products = (COMPOST, "Compost 40 L", 10), (SMALL_COMPOST, "Compost 20 L", 10)
    first = await garden_shopper(system, push, db, garden_journey(order_within="PT4S"), *products)
    second = await shopper(system, push, **EVERY_PURPOSE)

    # In stock when the first shopper walks in, sold out while the journey waits (6 s) to offer it.
    await into_the_garden(system, first, seed=3)
    assert (await enrolled(system, first, "garden"))["exit_reason"] is None
    await stock(system, COMPOST, 0)
    [message] = await settled(system, first)
    assert (message["step"], message["status"], message["sku"]) == ("offer", "sent", SMALL_COMPOST)
    assert message["body"] == "Compost 20 L en stock ici"
    assert [p.payload["sku"] for p in push.received(first.sub)] == [SMALL_COMPOST]

    # With the alternative sold out too, there is nothing to offer.
    await stock(system, SMALL_COMPOST, 0)
    await into_the_garden(system, second, seed=4)
    [message] = await settled(system, second)
    assert (message["step"], message["status"], message["reason"]) == ("offer", "suppressed", "out_of_stock")
    assert push.received(second.sub) == []
    found = await results(system, "garden")
    assert found["steps"]["offer"]["sent"] == 1 and found["steps"]["offer"]["suppressed"] == {"out_of_stock": 1}


@pytest.mark.parametrize("withdrawn", ["offers", "location"])
async def test_a_shopper_who_withdraws_consent_while_waiting_leaves_at_once(
    system: System, push: LocalPushService, db: asyncpg.Connection, withdrawn: str
) -> None:
    who = await garden_shopper(system, push, db, garden_journey(look="PT30S"))
    await into_the_garden(system, who, seed=5)
    await enrolled(system, who, "garden", step="look")

    withdrawn_at = datetime.now(UTC)
    r = await system.notify.put(
        f"/v1/devices/{who.device_id}/consents",
        json={"policy_version": "2026-01", "purposes": {**EVERY_PURPOSE, withdrawn: False}},
        headers=who.auth,
    )
    assert r.status_code == 200, r.text

    left = await exited(system, who, "garden", timeout=WITHIN.total_seconds())
    assert (left["step"], left["exit_reason"]) == ("look", "consent_withdrawn")
    assert datetime.fromisoformat(left["exited_at"]) - withdrawn_at <= WITHIN
    assert await messages(system, who) == [] and push.received(who.sub) == []


async def test_a_shopper_who_left_the_garden_before_the_branch_is_sent_nothing(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who = await garden_shopper(system, push, db, garden_journey(look="PT3S"))
    device = phone(6)
    fixes = into_garden(device, minutes_ago(10))
    await upload(system, who, fixes)
    # On to the far end of the shop: out of the garden department, still in the shop.
    answer = await upload(
        system, who, out_of_garden(device, datetime.fromisoformat(fixes[-1]["ts"]) + timedelta(seconds=5))
    )
    assert event_of(answer, "zone.exited", "garden")
    assert not [e for e in answer["events"] if e["type"] == "zone.exited" and e["zone_id"] == "main"]

    left = await exited(system, who, "garden")
    assert (left["step"], left["exit_reason"]) == ("end", "completed")
    assert await messages(system, who) == []
    found = await results(system, "garden")
    assert (found["steps"]["still"]["reached"], found["steps"]["order"]["reached"]) == (1, 0)


# ----------------------------------------------------------------------------- the control arm


async def both_arms(system: System, walk: Any, journey_id: str) -> list[tuple[Shopper, str]]:
    """Shoppers, each walked in by `walk`, until one is in each arm of the journey: (shopper, arm)."""
    drawn: list[tuple[Shopper, str]] = []
    while len({arm for _, arm in drawn}) < 2:
        assert len(drawn) < 20, "20 devices all in one arm of a 50 % holdout"
        who = await walk()
        drawn.append((who, (await enrolled(system, who, journey_id))["arm"]))
    return drawn


async def test_the_control_arm_is_never_sent_the_offer_and_counts_as_held_out(
    system: System, push: LocalPushService
) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 50))
    await saved(system, "welcome", welcome(wait="PT1S", holdout_percent=50))

    async def walk() -> Shopper:
        who = await shopper(system, push, **EVERY_PURPOSE)
        await enter(system, who)
        return who

    drawn = await both_arms(system, walk, "welcome")
    for who, arm in drawn:
        assert (await exited(system, who, "welcome"))["exit_reason"] == "completed"
        [message] = await settled(system, who)
        assert message["journey_id"] == "welcome" and message["step"] == "offer"
        if arm == "control":
            assert (message["status"], message["reason"]) == ("suppressed", "holdout")
            assert push.received(who.sub) == []
        else:
            assert message["status"] == "sent"
            assert [p.payload["id"] for p in push.received(who.sub)] == [message["id"]]
    treated = sum(arm == "treatment" for _, arm in drawn)
    held = len(drawn) - treated
    found = await results(system, "welcome")
    assert found["entered"] == {"treatment": treated, "control": held}
    assert found["steps"]["offer"] == {
        "reached": len(drawn),
        "sent": treated,
        "pending": 0,
        "failed": 0,
        "suppressed": {"holdout": held},
    }


READY = {
    "fr": {"title": "Commande prête", "body": "Votre commande vous attend"},
    "en": {"title": "Order ready", "body": "Your order is waiting for you"},
}


async def test_a_journeys_pickup_update_reaches_the_control_arm_too(system: System, push: LocalPushService) -> None:
    await pickup_store(system, on_hand=50)
    journey = {
        "name": "Ready",
        "entry": {"event": "order.ready", "store_id": "rivoli"},
        "holdout_percent": 50,
        "steps": [{"id": "ready", "type": "message", "purpose": "pickup_updates", "message": READY}],
    }
    await saved(system, "ready", journey)

    async def walk() -> Shopper:
        who = await customer(system, push)
        order_id = await place_order(system, who)
        r = await system.inventory.post(f"/v1/orders/{order_id}/ready", headers=system.admin)
        assert r.status_code == 200, r.text
        return who

    for who, arm in await both_arms(system, walk, "ready"):
        assert (await exited(system, who, "ready"))["exit_reason"] == "completed"

        async def said(who: Shopper = who) -> dict[str, Any] | None:
            found = [m for m in await messages(system, who) if m.get("journey_id") == "ready"]
            return found[0] if found and found[0]["status"] not in ("pending", "sending") else None

        message = await eventually(said)
        assert (message["step"], message["status"], message["title"]) == ("ready", "sent", "Order ready"), arm
        assert message["id"] in [p.payload["id"] for p in push.received(who.sub)]


# ---------------------------------------------------------------------------------- results


@dataclass
class Visitor:
    """A shopper of the results test, and what the test had it do."""

    who: Shopper
    offers: bool
    orders: str | None
    early: bool
    arm: str = ""


def hand_count(visitors: list[Visitor]) -> dict[str, Any]:
    """The results of the nudge journey, counted from what the visitors did and the arms they were in."""
    arms = ("treatment", "control")
    entered = {arm: sum(v.arm == arm for v in visitors) for arm in arms}
    converted = {arm: sum(v.arm == arm and v.orders == "YOG-1" for v in visitors) for arm in arms}
    suppressed = {
        "holdout": sum(v.arm == "control" and v.offers for v in visitors),
        "no_consent": sum(not v.offers for v in visitors),
    }
    rate = {arm: converted[arm] / entered[arm] if entered[arm] else None for arm in arms}
    counted = {
        "journey_id": "nudge",
        "entered": entered,
        "steps": {
            "look": {"reached": len(visitors)},
            "offer": {
                "reached": len(visitors),
                "sent": sum(v.arm == "treatment" and v.offers for v in visitors),
                "pending": 0,
                "failed": 0,
                "suppressed": {reason: n for reason, n in suppressed.items() if n},
            },
        },
        "exits": {"completed": len(visitors)} if visitors else {},
        "goal": {arm: {"entered": entered[arm], "converted": converted[arm], "rate": rate[arm]} for arm in arms},
        "now": {},
    }
    treated, control = rate["treatment"], rate["control"]
    if treated is None or control is None:
        counted["goal"]["uplift"] = None
    else:
        absolute = treated - control
        counted["goal"]["uplift"] = {"absolute": absolute, "relative": absolute / control if control else None}
    return counted


def without_interval(found: dict[str, Any]) -> dict[str, Any]:
    """The results with the uplift's interval taken out (checked on its own), rates as they are."""
    uplift = found["goal"]["uplift"]
    if uplift is not None:
        low, high = uplift.pop("ci95")
        assert -1 <= low <= uplift["absolute"] <= high <= 1, uplift
        uplift.pop("method", None)  # how the interval was made, when it says
    return found


async def test_results_add_up_to_what_the_devices_did(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 50), ("YOG-2", "Organic yoghurt", 50))
    goal = {"event": "order.reserved", "within": "PT1H", "sku": "YOG-1"}
    await saved(system, "nudge", welcome(wait="PT1S", holdout_percent=50, goal=goal))
    split = minutes_ago(20)  # the early visitors entered before, the others after
    visitors: list[Visitor] = []
    i = 0
    while len(visitors) < 8 or min(sum(v.arm == arm for v in visitors) for arm in ("treatment", "control")) < 2:
        assert i < 24, "24 devices and still not two in each arm of a 50 % holdout"
        offers, orders, early = i % 4 != 3, ("YOG-1", "YOG-2", None)[i % 3], i < 3
        who = await shopper(system, push, **{**EVERY_PURPOSE, "offers": offers})
        r = await system.geo.post(
            "/v1/pings", json={"pings": walk_in(minutes_ago(40) if early else None)}, headers=who.auth
        )
        assert r.status_code == 200, r.text
        visitor = Visitor(who, offers, orders, early, (await enrolled(system, who, "nudge"))["arm"])
        visitors.append(visitor)
        if i == 0:  # one arm is still empty: no uplift yet
            found = await results(system, "nudge")
            assert found["goal"]["uplift"] is None and found["goal"][visitor.arm]["entered"] == 1
        i += 1
    for v in visitors:
        assert (await exited(system, v.who, "nudge"))["exit_reason"] == "completed"
        await settled(system, v.who)
        if v.orders:
            await place_order(system, v.who, sku=v.orders)

    expected = hand_count(visitors)

    async def converted() -> dict[str, Any] | None:
        found = await results(system, "nudge")
        counts = {arm: found["goal"][arm]["converted"] for arm in ("treatment", "control")}
        return found if counts == {arm: expected["goal"][arm]["converted"] for arm in counts} else None

    assert without_interval(await eventually(converted)) == expected
    late = await results(system, "nudge", **{"from": split.isoformat()})
    assert without_interval(late) == hand_count([v for v in visitors if not v.early])
    before = await results(system, "nudge", to=split.isoformat())
    assert without_interval(before) == hand_count([v for v in visitors if v.early])
