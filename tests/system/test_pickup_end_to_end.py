"""Contactless pickup, the whole story, through the three running services over real HTTP and a real
PostgreSQL: a shopper orders, drives in with a noisy GPS track, staff are alerted once as the car
approaches and once as it arrives, walk out, hand the order over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import System, eventually
from tests.support.builders import (
    SKU,
    StaffStream,
    customer,
    noisy_drive,
    pickup_store,
    place_order,
    settled,
    staff_member,
    start_trip,
    upload,
)
from tests.support.push_service import LocalPushService


async def test_a_shopper_drives_in_and_staff_bring_the_order_out(system: System, push: LocalPushService) -> None:
    # The store: a shop, pickup bay 2 and its approach; five vegetable boxes; Alex on shift, with push
    # enabled on the tablet.
    await pickup_store(system, on_hand=5)
    alex = await staff_member(system, name="Alex")
    key = (await system.notify.get("/v1/vapid-public-key")).json()["public_key"]
    tablet = push.subscriber(key)
    r = await system.notify.put(
        f"/v1/staff/{alex.staff_id}/push-subscription", json=tablet.subscription(), headers=alex.auth
    )
    assert r.status_code == 200, r.text

    # Camille's phone registers, consents to pickup updates, subscribes to push, and orders one box.
    camille = await customer(system, push)
    order_id = await place_order(system, camille, name="Camille")
    stock = (await system.inventory.get("/v1/stores/rivoli/stock", params={"sku": SKU}, headers=alex.auth)).json()
    assert stock["items"][0] == {"sku": SKU, "on_hand": 5, "reserved": 1, "available": 4}
    r = await system.inventory.post(f"/v1/orders/{order_id}/ready", headers=alex.auth)
    assert r.status_code == 200, r.text

    async with StaffStream(system.notify, "rivoli", alex.auth) as stream:
        assert stream.status == 200
        trip_id = await start_trip(system, camille, order_id)

        # The drive: a fix every 4 s, uploaded 5 at a time; one batch sent twice (a retry after a
        # lost answer), two batches swapped (a queue flushed out of order).
        track = noisy_drive(datetime.now(UTC) - timedelta(seconds=4 * 62))
        batches = [track[i : i + 5] for i in range(0, len(track), 5)]
        batches[4], batches[5] = batches[5], batches[4]
        batches.insert(8, batches[7])
        trip_events = []
        for batch in batches:
            trip_events += [e["type"] for e in (await upload(system, camille, batch))["events"] if "trip_id" in e]
        assert trip_events == ["trip.approaching", "trip.arrived"]

        approaching, arrived = await stream.wait_for(2)
        ref = order_id[-4:].upper()
        assert approaching["kind"] == "approaching" and approaching["order_ref"] == ref
        assert approaching["text"].startswith(f"Camille (order {ref}) is ") and approaching["text"].endswith(
            " min away — bay 2"
        )
        assert arrived["text"] == "Camille has arrived — bay 2" and arrived["bay"] == "bay 2"
        assert {approaching["trip_id"], arrived["trip_id"]} == {trip_id}

        # Alex taps "On my way out": every tablet of the store sees who is going.
        r = await system.notify.post(f"/v1/alerts/{arrived['alert_id']}/ack", headers=alex.auth)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["acked_by"], r.json()["acked_by_name"]) == ("acked", alex.staff_id, "Alex")
        [update] = await stream.wait_for(1, "alert.updated")
        assert update["alert_id"] == arrived["alert_id"] and update["acked_by_name"] == "Alex"

        # The box is handed over: a sale; geo completes the trip; the alerts close.
        r = await system.inventory.post(f"/v1/orders/{order_id}/collected", headers=alex.auth)
        assert r.status_code == 200, r.text
        closed = await stream.wait_for(3, "alert.updated")
        assert {(a["alert_id"], a["status"], a["outcome"]) for a in closed[1:]} == {
            (approaching["alert_id"], "closed", "completed"),
            (arrived["alert_id"], "closed", "completed"),
        }
        assert len(stream.alerts()) == 2  # exactly one approaching and one arrival alert, all along

    trip = (await system.geo.get(f"/v1/trips/{trip_id}", headers=camille.auth)).json()
    assert trip["status"] == "completed"
    stock = (await system.inventory.get("/v1/stores/rivoli/stock", params={"sku": SKU}, headers=alex.auth)).json()
    assert stock["items"][0] == {"sku": SKU, "on_hand": 4, "reserved": 0, "available": 4}
    listed = (await system.notify.get("/v1/stores/rivoli/alerts", headers=alex.auth)).json()["alerts"]
    assert [(a["kind"], a["status"]) for a in listed] == [("arrived", "closed"), ("approaching", "closed")]

    # What Camille's phone got: both updates she consented to, signed, encrypted, urgent, one topic.
    ready, seen = await settled(system, camille, 2)
    assert (ready["purpose"], ready["status"], ready["order_id"]) == ("pickup_updates", "sent", order_id)
    assert (seen["purpose"], seen["status"]) == ("pickup_updates", "sent")
    assert push.refused == []  # every push's VAPID signature checked and its payload decrypted
    phone = push.received(camille.sub)
    assert [p.payload["title"] for p in phone] == ["Your order is ready", "We see you"]
    assert phone[1].payload["body"] == "We see you — a colleague is coming to bay 2"
    assert {p.headers["urgency"] for p in phone} == {"high"} and phone[0].topic == phone[1].topic

    # And Alex's tablet: the two alerts by Web Push, the arrival replacing the approach (one topic).
    pushed = await eventually(lambda: _at_least(push.received(tablet), 2))
    assert [p.payload["body"] for p in pushed] == [approaching["text"], arrived["text"]]
    assert [p.payload["purpose"] for p in pushed] == ["staff_alerts", "staff_alerts"]
    assert {p.headers["urgency"] for p in pushed} == {"high"} and pushed[0].topic == pushed[1].topic
    assert [p["body"] for p in push.inbox(tablet)] == [arrived["text"]]


async def _at_least(items: list, count: int) -> list | None:
    return items if len(items) >= count else None
