"""One shopper through all three services: consent, a store zone, pings, an offer decided from stock."""

from __future__ import annotations

from tests.conftest import System, eventually
from tests.support.builders import campaign, create_store, feed_until, messages, product, shopper, walk_in
from tests.support.push_service import LocalPushService


async def test_entering_the_store_fires_one_event_and_notify_decides_an_offer_in_stock(
    system: System, push: LocalPushService
) -> None:
    await create_store(system)
    await product(system, "YOG-1", "Yaourt nature", 5, names={"en": "Plain yoghurt", "fr": "Yaourt nature"})
    await campaign(system, "welcome", "YOG-1")
    who = await shopper(system, push, location=True, offers=True)
    device_id, auth = who.device_id, who.auth

    r = await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 11 and body["rejected"] == []
    assert [e["type"] for e in body["events"]] == ["zone.entered"]
    entered = body["events"][0]
    assert entered["device_id"] == device_id and entered["store_id"] == "rivoli" and entered["zone_id"] == "main"

    found = await eventually(lambda: messages(system, who))
    assert len(found) == 1
    message = found[0]
    assert message["event_id"] == entered["id"]
    assert message["status"] in ("pending", "sending", "sent") and message["purpose"] == "offers"
    assert message["sku"] == "YOG-1" and message["body"] == "Yaourt nature à -20 % aujourd'hui"


async def test_a_retried_batch_answers_the_same_events_which_fired_once(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    track = walk_in()
    first = await system.geo.post("/v1/pings", json={"pings": track}, headers=who.auth)
    again = await system.geo.post("/v1/pings", json={"pings": track}, headers=who.auth)
    assert [e["type"] for e in first.json()["events"]] == ["zone.entered"]
    assert again.status_code == 200 and again.json()["events"] == first.json()["events"]
    feed = await feed_until(system, lambda evs: len(evs) >= 2)
    assert [e["type"] for e in feed] == ["store.changed", "zone.entered"]  # the store's creation, then one entry


async def test_an_out_of_stock_offer_becomes_the_in_stock_alternative(system: System, push: LocalPushService) -> None:
    await create_store(system)
    await product(system, "YOG-1", "Plain yoghurt", 0)
    await product(system, "YOG-2", "Plain yoghurt organic", 3)
    await campaign(system, "welcome", "YOG-1")
    who = await shopper(system, push, locale="en-GB", location=True, offers=True)

    await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=who.auth)

    [message] = await eventually(lambda: messages(system, who))
    assert message["sku"] == "YOG-2"
    assert message["body"] == "Plain yoghurt organic at 20% off today"
    assert "YOG-1" not in message["body"] and message["body"].count("Plain yoghurt organic") == 1


async def test_nothing_in_stock_means_silence_with_the_reason(system: System, push: LocalPushService) -> None:
    await create_store(system)
    await product(system, "YOG-1", "Plain yoghurt", 0)
    await campaign(system, "welcome", "YOG-1")
    who = await shopper(system, push, location=True, offers=True)

    await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=who.auth)

    [message] = await eventually(lambda: messages(system, who))
    assert message["status"] == "suppressed" and message["reason"] == "out_of_stock"
    assert message.get("title") is None and message.get("body") is None


async def test_without_offers_consent_the_decision_is_recorded_as_suppressed(system: System) -> None:
    await create_store(system)
    await product(system, "YOG-1", "Plain yoghurt", 4)
    await campaign(system, "welcome", "YOG-1")
    who = await shopper(system, location=True, offers=False)

    await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=who.auth)

    [message] = await eventually(lambda: messages(system, who))
    assert message["status"] == "suppressed" and message["reason"] == "no_consent"


async def test_without_location_consent_pings_are_refused_and_nothing_is_stored(system: System, db) -> None:
    await create_store(system)
    who = await shopper(system, location=False)
    device_id, auth = who.device_id, who.auth
    r = await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=auth)
    assert r.status_code == 200
    assert r.json()["accepted"] == 0 and r.json()["reason"] == "no_location_consent"
    assert await db.fetchval("SELECT count(*) FROM geo.pings WHERE device_id = $1", device_id) == 0
    assert await db.fetchval("SELECT count(*) FROM geo.devices WHERE device_id = $1", device_id) == 0


async def test_a_withdrawal_stops_processing_of_the_very_next_ping(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    device_id, auth = who.device_id, who.auth
    track = walk_in()
    r = await system.geo.post("/v1/pings", json={"pings": track[:3]}, headers=auth)
    assert r.json()["accepted"] == 3

    r = await system.notify.put(
        f"/v1/devices/{device_id}/consents",
        json={"policy_version": "2026-01", "purposes": {"location": False}},
        headers=auth,
    )
    assert r.status_code == 200
    r = await system.geo.post("/v1/pings", json={"pings": track[3:]}, headers=auth)
    assert r.json()["accepted"] == 0 and r.json()["events"] == []
