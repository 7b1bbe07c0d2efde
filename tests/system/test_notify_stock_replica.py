"""notify decides offers from its own replica of inventory's stock: offers keep coming with inventory
stopped, on the stock inventory last published, and every stock change reaches the replica."""

from __future__ import annotations

import uuid

import httpx
import pytest

from services.notify.offers import repository as offers_repo
from services.notify.replicas import service as replicas
from tests.conftest import System
from tests.support.builders import (
    EVERY_PURPOSE,
    TEXTS,
    campaign,
    enter,
    notify_sees,
    replica_of,
    settled,
    shop,
    shopper,
)
from tests.support.builders import product as stock_product
from tests.support.push_service import LocalPushService


async def _device(system: System) -> tuple[str, dict[str, str]]:
    r = await system.notify.post("/v1/devices", json={"platform": "web", "locale": "en"})
    assert r.status_code == 201, r.text
    return r.json()["device_id"], System.bearer(r.json()["token"])


async def test_with_inventory_stopped_a_shopper_walking_in_still_gets_the_offer(
    system: System, push: LocalPushService
) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5), names={"YOG-1": {"fr": "Yaourt nature"}})
    await campaign(system, "welcome", "YOG-1")
    who = await shopper(system, push, **EVERY_PURPOSE)
    await system.running.stop("inventory")
    with pytest.raises(httpx.TransportError):
        await system.inventory.get("/healthz")
    await enter(system, who)

    [message] = await settled(system, who)
    assert (message["status"], message["sku"]) == ("sent", "YOG-1")
    assert message["body"] == "Yaourt nature à -20 % aujourd'hui"
    assert len(push.received(who.sub)) == 1


@pytest.mark.parametrize(
    ("others", "said"),
    [
        ((("YOG-2", "Plain yoghurt organic", 3),), ("sent", None, "YOG-2")),
        ((), ("suppressed", "out_of_stock", "YOG-1")),
    ],
)
async def test_a_stock_change_made_before_inventory_stopped_decides_the_offer(
    system: System, push: LocalPushService, others: tuple, said: tuple
) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5), *others)
    await campaign(system, "welcome", "YOG-1")
    who = await shopper(system, push, locale="en-GB", **EVERY_PURPOSE)
    r = await system.inventory.put("/v1/stores/rivoli/stock/YOG-1", json={"on_hand": 0}, headers=system.admin)
    assert r.status_code == 200, r.text
    await system.running.stop("inventory")
    await notify_sees(system, "rivoli", "YOG-1", 0)  # published before the stop, applied after it
    await enter(system, who)

    [message] = await settled(system, who)
    assert (message["status"], message.get("reason"), message["sku"]) == said
    if message["status"] == "sent":
        assert message["body"] == "Plain yoghurt organic at 20% off today"


async def test_every_change_of_availability_reaches_the_replica(system: System) -> None:
    await shop(system, ("OAT-1", "Oat drink 1L", 10))
    r = await system.inventory.post(
        "/v1/stores/rivoli/stock/OAT-1/adjustments", json={"delta": -3, "reason": "breakage"}, headers=system.admin
    )
    assert r.status_code == 200, r.text
    assert (await notify_sees(system, "rivoli", "OAT-1", 7))["on_hand"] == 7

    device_id, auth = await _device(system)
    r = await system.inventory.post(
        "/v1/orders",
        json={"store_id": "rivoli", "lines": [{"sku": "OAT-1", "qty": 2}], "display_name": "Sam"},
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    reserved = await notify_sees(system, "rivoli", "OAT-1", 5)  # reserved units are not available
    assert reserved["on_hand"] == 7

    r = await system.inventory.put("/v1/stores/opera/stock/OAT-1", json={"on_hand": 4}, headers=system.admin)
    assert r.status_code == 200, r.text
    await notify_sees(system, "opera", "OAT-1", 4)
    assert (await replica_of(system, "rivoli", "OAT-1"))["available"] == 5  # each store its own row


async def test_the_replicas_alternative_is_the_one_inventory_ranks_first(system: System) -> None:
    await shop(system)
    for sku, name, on_hand in [
        ("MILK-1", "Whole milk 1L", 0),
        ("MILK-2", "Semi-skimmed milk 1L", 4),
        ("MILK-3", "Whole milk 1L organic", 2),
        ("MILK-4", "Whole milk 2L", 9),
        ("CHEESE-1", "Whole milk cheese", 0),
    ]:
        await stock_product(system, sku, name, on_hand)
    await stock_product(system, "TOOL-1", "Whole milk frother", 7, category="kitchen")

    db = system.running.state("notify").db
    for sku in ("MILK-1", "MILK-2", "CHEESE-1", "TOOL-1"):
        r = await system.inventory.get(f"/v1/stores/rivoli/alternatives/{sku}", headers=system.admin)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        async with db.transaction(readonly=True) as conn:
            mine = await replicas.best_alternative(conn, "rivoli", sku)
        assert (mine.sku if mine else None) == (items[0]["sku"] if items else None), sku
        if mine:
            assert (mine.name, mine.available) == (items[0]["name"], items[0]["available"])


async def test_a_product_notify_has_never_heard_of_makes_no_offer(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-2", "Plain yoghurt organic", 3))
    body = {"trigger": {"type": "zone.entered", "zone_kind": "store"}, "sku": "YOG-1", "message": TEXTS}
    r = await system.notify.put("/v1/campaigns/welcome", json=body, headers=system.admin)
    assert r.status_code == 422 and r.json()["field"] == "sku"  # a SKU inventory does not have
    # A campaign saved before notify checked SKUs still names it: the rule holds for it.
    async with system.running.state("notify").db.transaction() as conn:
        await offers_repo.upsert_campaign(conn, "welcome", body["trigger"], "YOG-1", TEXTS, True)
    who = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, who)

    [message] = await settled(system, who)
    assert (message["status"], message["reason"]) == ("suppressed", "out_of_stock")
