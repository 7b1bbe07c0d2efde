"""An erasure asked while a consumer is writing about the device, in the bus's transaction that
claimed the device's event: the erasure waits for that transaction, then removes what it wrote."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import msgspec
import pytest

from services.notify.offers.consumers import ORDERS
from services.notify.webhooks.consumers import WEBHOOK_EVENTS
from shared import bus
from shared.events import Event, OrderData, OrderLine, OrderReserved, TripApproaching, TripData
from tests.conftest import ADMIN_TOKEN, TESTING_NOTIFY, RunningServices, eventually, one_service
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
async def notify(db_url: str, receiver: WebhookReceiver) -> AsyncIterator[RunningServices]:
    config = msgspec.structs.replace(TESTING_NOTIFY, webhook_hosts=(receiver.host,))
    async with one_service(db_url, "notify", config) as run:
        yield run


@pytest.fixture
async def http(notify: RunningServices) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=notify.settings.url_of("notify"), timeout=30) as client:
        yield client


def events_of(device_id: str) -> list[Event]:
    """What geo and inventory publish as the shopper orders and drives in."""
    now = datetime.now(UTC)
    order = OrderData(lines=[OrderLine(sku="BOX-1", qty=1)], display_name="Camille")
    trip = TripData(status="approaching", mode="car", display_name="Camille", bay="2", eta_s=240, distance_m=900.0)
    return [
        OrderReserved(ts=now, device_id=device_id, store_id="rivoli", order_id="ord_1", data=order),
        TripApproaching(ts=now, device_id=device_id, store_id="rivoli", trip_id="trp_1", order_id="ord_1", data=trip),
    ]


async def held(db: asyncpg.Connection, device_id: str) -> dict[str, int]:
    counts = {
        "deliveries": "SELECT count(*) FROM notify.webhook_deliveries WHERE device_id = $1",
        "orders": "SELECT count(*) FROM notify.orders WHERE device_id = $1",
    }
    return {what: await db.fetchval(sql, device_id) for what, sql in counts.items()}


async def test_an_erasure_waits_for_a_consumer_writing_about_the_device_then_removes_what_it_wrote(
    notify: RunningServices, http: httpx.AsyncClient, receiver: WebhookReceiver, db: asyncpg.Connection
) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    r = await http.put(
        "/v1/webhooks/crm",
        json={"url": receiver.url(), "events": ["order.reserved", "trip.approaching"]},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    r = await http.post("/v1/devices", json={"platform": "web", "locale": "en-GB", "timezone": "UTC"})
    assert r.status_code == 201, r.text
    device_id = r.json()["device_id"]
    ctx = notify.state("notify")

    erasing: asyncio.Task[httpx.Response] | None = None
    async with db.transaction():  # as the bus's worker claims and handles the events, not yet committed
        await bus.publish(db, "geo", events_of(device_id))
        for consumer in (WEBHOOK_EVENTS, ORDERS):
            await bus.catch_up(db, consumer, device_id, ctx)
        assert await held(db, device_id) == {"deliveries": 2, "orders": 1}

        erasing = asyncio.create_task(http.delete(f"/v1/devices/{device_id}", headers=admin))
        await eventually(lambda: _waits_or_done(db, erasing))
    r = await erasing
    assert r.status_code == 202, r.text

    assert await held(db, device_id) == {"deliveries": 0, "orders": 0}


async def _waits_or_done(db: asyncpg.Connection, task: asyncio.Task[httpx.Response]) -> bool:
    """The erasure is waiting for a lock this transaction holds (or, had it not waited, is over)."""
    return task.done() or bool(await db.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"))
