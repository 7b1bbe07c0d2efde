"""An erasure while the device's trip and order events still wait on the bus for notify: once handled,
they leave no staff alert and no webhook delivery about the device, while another shopper's same
events, handled at the same time, make both."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
import pytest

from shared.bus import CHANNEL
from tests.conftest import TESTING_NOTIFY, System, eventually
from tests.support.builders import Shopper, customer, pickup_store, place_order, pull_in
from tests.support.webhook_receiver import WebhookReceiver

HELD = ["notify.staff_alerts", "notify.webhooks"]
"""The consumers whose events are kept waiting: they were the ones that did not check the device."""

EVENTS = ["order.reserved", "trip.approaching", "trip.arrived", "erasure.requested"]


@pytest.fixture
def configs(receiver: WebhookReceiver) -> dict[str, Any]:
    return {"notify": msgspec.structs.replace(TESTING_NOTIFY, webhook_hosts=(receiver.host,))}


async def drive_in(system: System, who: Shopper, name: str) -> str:
    """The shopper orders and pulls into the bay: order.reserved, trip.approaching, trip.arrived."""
    order_id = await place_order(system, who, name=name)
    return await pull_in(system, who, order_id)


async def waiting(db: asyncpg.Connection, device_ids: list[str]) -> int:
    """The held consumers' deliveries of these devices' events still to handle."""
    return int(
        await db.fetchval(
            "SELECT count(*) FROM bus.deliveries WHERE consumer = any($1::text[]) AND device_id = any($2::text[])",
            HELD,
            device_ids,
        )
    )


async def about(db: asyncpg.Connection, device_id: str, name: str) -> dict[str, list[str]]:
    """What notify holds naming the device or the shopper: alerts by kind, webhook deliveries by type."""
    alerts = await db.fetch(
        "SELECT kind FROM notify.alerts WHERE device_id = $1 OR display_name = $2 ORDER BY kind", device_id, name
    )
    deliveries = await db.fetch(
        """
        SELECT d.event_type FROM notify.webhook_deliveries d
        WHERE d.device_id = $1 OR strpos(d.payload, $1) > 0 OR strpos(d.payload, $2) > 0
           OR EXISTS (SELECT 1 FROM notify.webhook_attempts a WHERE a.event_id = d.event_id AND a.device_id = $1)
        ORDER BY d.event_type
        """,
        device_id,
        name,
    )
    return {"alerts": [r["kind"] for r in alerts], "deliveries": [r["event_type"] for r in deliveries]}


async def test_events_waiting_for_notify_at_an_erasure_leave_no_alert_nor_webhook_delivery_of_the_device(
    system: System, receiver: WebhookReceiver, db: asyncpg.Connection
) -> None:
    r = await system.notify.put(
        "/v1/webhooks/crm", json={"url": receiver.url(), "events": EVENTS}, headers=system.admin
    )
    assert r.status_code == 200, r.text
    await pickup_store(system)
    alice, bob = await customer(system, None), await customer(system, None)

    # notify is down while both drive in: their events wait on the bus for it.
    await system.running.stop("notify")
    alice_trip, bob_trip = await drive_in(system, alice, "Alice"), await drive_in(system, bob, "Bob")
    devices = [alice.device_id, bob.device_id]
    assert await waiting(db, devices) >= 2 * (2 + 3)  # each: two trip events for alerts, three for webhooks
    # The two consumers are held back past notify's return; geo, down, will not confirm the erasure
    # (which would drop the device's events from the log) before they are handled.
    await db.execute("UPDATE bus.deliveries SET available_at = 'infinity' WHERE consumer = any($1::text[])", HELD)
    await system.running.stop("geo")
    await system.running.start("notify")

    r = await system.notify.delete(f"/v1/devices/{alice.device_id}", headers=alice.auth)
    assert r.status_code == 202, r.text
    erasure_id = r.json()["erasure_id"]

    await db.execute("UPDATE bus.deliveries SET available_at = now() WHERE consumer = any($1::text[])", HELD)
    await db.execute("SELECT pg_notify($1, 'test')", CHANNEL)
    await eventually(lambda: _none_waiting(db, devices))

    # The erasure's own notice reaches the receiver, naming the device; notify keeps no delivery of it.
    notice = await eventually(lambda: _received(receiver, "erasure.requested"))
    assert notice["data"]["device_id"] == alice.device_id
    await eventually(lambda: _all_sent(db))  # a body waiting to be sent still names the device

    # Bob's events were handled: his alerts and deliveries are there.
    assert await about(db, bob.device_id, "Bob") == {
        "alerts": ["approaching", "arrived"],
        "deliveries": ["order.reserved", "trip.approaching", "trip.arrived"],
    }
    assert await db.fetchval("SELECT count(*) FROM notify.alerts WHERE trip_id = $1", bob_trip) == 2
    # Alice's were handled after her erasure: nothing names her device or her.
    assert await about(db, alice.device_id, "Alice") == {"alerts": [], "deliveries": []}
    assert await db.fetchval("SELECT count(*) FROM notify.alerts WHERE trip_id = $1", alice_trip) == 0

    await system.running.start("geo")
    status = await eventually(lambda: _completed(system, erasure_id))
    assert status["pending"] == []
    assert await about(db, alice.device_id, "Alice") == {"alerts": [], "deliveries": []}


async def _none_waiting(db: asyncpg.Connection, device_ids: list[str]) -> bool:
    return await waiting(db, device_ids) == 0


async def _received(receiver: WebhookReceiver, event_type: str) -> dict[str, Any] | None:
    await asyncio.sleep(0)
    return next((r.doc for r in receiver.received if r.doc["type"] == event_type), None)


async def _all_sent(db: asyncpg.Connection) -> bool:
    return not await db.fetchval("SELECT count(*) FROM notify.webhook_deliveries WHERE status <> 'delivered'")


async def _completed(system: System, erasure_id: str) -> dict[str, Any] | None:
    status = (await system.notify.get(f"/v1/erasures/{erasure_id}")).json()
    return status if status["status"] == "completed" else None
