"""Campaigns through the running services: their lifecycle (paused, scheduled in the store's time
zone, ended), what devices report about the offers they were shown, and the results that add up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notify.offers.jobs import forget_old_orders
from shared.db import connect
from tests.conftest import System, eventually
from tests.support.builders import (
    EVERY_PURPOSE,
    STORE,
    TEXTS,
    Shopper,
    campaign,
    enter,
    settled,
    shop,
    shopper,
    timezone_at,
)
from tests.support.push_service import LocalPushService

TRIGGER = {"type": "zone.entered", "zone_kind": "store"}


async def put_campaign(system: System, campaign_id: str, **fields: Any):
    body = {"trigger": TRIGGER, "sku": "YOG-1", "message": TEXTS, **fields}
    return await system.notify.put(f"/v1/campaigns/{campaign_id}", json=body, headers=system.admin)


async def sql(system: System, query: str, *args: Any) -> list[Any]:
    conn = await connect(system.settings.database_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def report(system: System, who: Shopper, message_id: int, type_: str, ts: datetime | None = None):
    body = {"type": type_, "ts": (ts or datetime.now(UTC)).isoformat()}
    return await system.notify.post(f"/v1/messages/{message_id}/events", json=body, headers=who.auth)


async def test_a_campaign_is_listed_read_paused_and_ended(system: System) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    admin = system.admin
    hours = [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "09:00", "to": "19:00"}]
    r = await put_campaign(system, "b-week", schedule={"starts_at": "2026-01-01T00:00:00Z", "hours": hours})
    assert r.status_code == 200, r.text
    r = await put_campaign(system, "a-welcome", active=False)
    assert r.status_code == 200 and r.json()["active"] is False

    listed = (await system.notify.get("/v1/campaigns", headers=admin)).json()
    assert [c["campaign_id"] for c in listed] == ["a-welcome", "b-week"]
    week = (await system.notify.get("/v1/campaigns/b-week", headers=admin)).json()
    assert week["active"] is True and week["schedule"]["hours"] == hours
    assert datetime.fromisoformat(week["schedule"]["starts_at"]) == datetime(2026, 1, 1, tzinfo=UTC)
    r = await system.notify.get("/v1/campaigns/nope", headers=admin)
    assert r.status_code == 404 and r.json()["field"] == "campaign_id"

    assert (await system.notify.delete("/v1/campaigns/b-week", headers=admin)).status_code == 204
    ended = (await system.notify.get("/v1/campaigns/b-week", headers=admin)).json()
    assert ended["ended_at"] is not None and ended["active"] is False
    assert [c["campaign_id"] for c in (await system.notify.get("/v1/campaigns", headers=admin)).json()] == [
        "a-welcome",
        "b-week",
    ]
    r = await system.notify.delete("/v1/campaigns/b-week", headers=admin)
    assert r.status_code == 404 and r.json()["field"] == "campaign_id"  # nothing left to end
    r = await put_campaign(system, "b-week")
    assert r.status_code == 409  # an ended campaign stays ended


async def test_a_wrong_campaign_is_refused_naming_the_field(system: System) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    cases = {
        "schedule.ends_at": {"schedule": {"starts_at": "2026-02-01T00:00:00Z", "ends_at": "2026-01-01T00:00:00Z"}},
        "schedule.hours[0].to": {"schedule": {"hours": [{"days": ["mon"], "from": "19:00", "to": "09:00"}]}},
        "schedule.hours[0].days": {"schedule": {"hours": [{"days": ["lundi"], "from": "09:00", "to": "19:00"}]}},
        "schedule.hours[0].from": {"schedule": {"hours": [{"days": ["mon"], "from": "9", "to": "19:00"}]}},
        "sku": {"sku": "NOT-SOLD"},
    }
    for field, body in cases.items():
        r = await put_campaign(system, "bad", **body)
        assert (r.status_code, r.json().get("field")) == (422, field), r.text
    assert (await system.notify.get("/v1/campaigns/bad", headers=system.admin)).status_code == 404


async def test_paused_closed_and_ended_campaigns_make_no_offer_and_say_why(
    system: System, push: LocalPushService
) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    # The store is where it is 3 am now: a campaign open 09:00-19:00 there is closed, whatever UTC says.
    r = await system.geo.put("/v1/stores/rivoli", json={**STORE, "timezone": timezone_at(3)}, headers=system.admin)
    assert r.status_code == 200, r.text
    await eventually(lambda: sql(system, "SELECT 1 FROM notify.stores WHERE timezone = $1", timezone_at(3)))
    every_day = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "from": "09:00", "to": "19:00"}]
    assert (await put_campaign(system, "a-paused", active=False)).status_code == 200
    assert (await put_campaign(system, "b-shop-hours", schedule={"hours": every_day})).status_code == 200
    assert (await put_campaign(system, "c-ended")).status_code == 200
    assert (await system.notify.delete("/v1/campaigns/c-ended", headers=system.admin)).status_code == 204
    await campaign(system, "d-welcome", "YOG-1")
    who = await shopper(system, push, **EVERY_PURPOSE)  # midday for the shopper: no quiet hours
    await enter(system, who)

    found = {m["campaign_id"]: m for m in await settled(system, who, 3)}
    assert (found["a-paused"]["status"], found["a-paused"]["reason"]) == ("suppressed", "paused")
    assert (found["b-shop-hours"]["status"], found["b-shop-hours"]["reason"]) == ("suppressed", "outside_schedule")
    assert "c-ended" not in found
    assert found["d-welcome"]["status"] == "sent"
    assert len(push.received(who.sub)) == 1


async def test_the_device_reports_what_became_of_a_message_it_was_sent(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    assert (await put_campaign(system, "a-paused", active=False)).status_code == 200
    await campaign(system, "b-welcome", "YOG-1")
    who = await shopper(system, push, **EVERY_PURPOSE)
    other = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, who)
    found = {m["campaign_id"]: m for m in await settled(system, who, 2)}
    sent, suppressed = found["b-welcome"], found["a-paused"]

    r = await report(system, other, sent["id"], "shown")
    assert r.status_code == 404 and r.json()["field"] == "message_id"
    r = await report(system, who, 10**9, "shown")
    assert r.status_code == 404 and r.json()["field"] == "message_id"
    assert (await report(system, who, suppressed["id"], "shown")).status_code == 409
    r = await report(system, who, sent["id"], "shown", datetime.now(UTC) + timedelta(minutes=10))
    assert r.status_code == 422 and r.json()["field"] == "ts"
    r = await report(system, who, sent["id"], "shown", datetime.fromisoformat(sent["sent_at"]) - timedelta(seconds=1))
    assert r.status_code == 422 and r.json()["field"] == "ts"

    first = await report(system, who, sent["id"], "shown")
    again = await report(system, who, sent["id"], "shown")
    assert (first.status_code, first.json()["counted"]) == (200, True)
    assert (again.status_code, again.json()["counted"]) == (200, False)
    assert again.json()["ts"] == first.json()["ts"]
    results = (await system.notify.get("/v1/campaigns/b-welcome/results", headers=system.admin)).json()
    assert (results["sent"], results["shown"], results["clicked"]) == (1, 1, 0)


async def order(system: System, who: Shopper, sku: str, qty: int) -> str:
    r = await system.inventory.post(
        "/v1/orders",
        json={"store_id": "rivoli", "lines": [{"sku": sku, "qty": qty}], "display_name": "Camille"},
        headers={**who.auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    order_id = r.json()["order_id"]
    await eventually(lambda: sql(system, "SELECT 1 FROM notify.orders WHERE order_id = $1", order_id))
    return order_id


async def test_results_add_up_and_attribute_orders_placed_within_a_day(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 50), ("YOG-2", "Organic yoghurt", 50))
    await campaign(system, "welcome", "YOG-1")
    shoppers = [await shopper(system, push, **EVERY_PURPOSE) for _ in range(3)]
    sent = []
    for who in shoppers:
        await enter(system, who)
        [message] = await settled(system, who)
        assert message["status"] == "sent"
        sent.append(message)
    for who, message in zip(shoppers[:2], sent[:2], strict=True):
        assert (await report(system, who, message["id"], "shown")).status_code == 200
    assert (await report(system, shoppers[0], sent[0]["id"], "clicked")).status_code == 200
    assert (await report(system, shoppers[0], sent[0]["id"], "clicked")).status_code == 200  # counted once

    # Shopper 0 orders the offered yoghurt (twice in one order) right after the offer: attributed.
    await order(system, shoppers[0], "YOG-1", 2)
    # Shopper 1 orders another product: not attributed. Shopper 2 orders it 30 h after the offer: too late.
    await order(system, shoppers[1], "YOG-2", 1)
    late = datetime.fromisoformat(sent[2]["sent_at"]) + timedelta(hours=30)
    await sql(
        system,
        """
        INSERT INTO notify.orders (order_id, device_id, store_id, placed_at, event_id)
        VALUES ('late', $1, 'rivoli', $2, 0)
        """,
        shoppers[2].device_id,
        late,
    )
    await sql(system, "INSERT INTO notify.order_lines (order_id, sku, qty) VALUES ('late', 'YOG-1', 1)")

    r = await system.notify.get("/v1/campaigns/welcome/results", headers=system.admin)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "campaign_id": "welcome",
        "decided": 3,
        "sent": 3,
        "shown": 2,
        "clicked": 1,
        "suppressed": {},
        "alternatives": 0,
        "orders": 1,
        "units": 2,
    }
    before = {"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}
    r = await system.notify.get("/v1/campaigns/welcome/results", params=before, headers=system.admin)
    assert (r.json()["decided"], r.json()["orders"]) == (0, 0)
    backwards = {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    r = await system.notify.get("/v1/campaigns/welcome/results", params=backwards, headers=system.admin)
    assert r.status_code == 422 and r.json()["field"] == "to"


async def test_erasure_takes_the_devices_reports_and_orders(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    await campaign(system, "welcome", "YOG-1")
    who = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, who)
    [message] = await settled(system, who)
    assert (await report(system, who, message["id"], "shown")).status_code == 200
    await order(system, who, "YOG-1", 1)

    r = await system.notify.delete(f"/v1/devices/{who.device_id}", headers=who.auth)
    assert r.status_code in (200, 202), r.text
    assert await sql(system, "SELECT 1 FROM notify.orders WHERE device_id = $1", who.device_id) == []
    assert await sql(system, "SELECT 1 FROM notify.message_events WHERE message_id = $1", message["id"]) == []


async def test_order_records_follow_the_message_retention(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    who = await shopper(system, push, **EVERY_PURPOSE)
    order_id = await order(system, who, "YOG-1", 1)
    state = system.running.state("notify")
    kept = timedelta(days=state.config.message_retention_days)
    now = datetime.now(UTC)
    assert await forget_old_orders(state, now + kept - timedelta(hours=1)) == 0
    assert await forget_old_orders(state, now + kept + timedelta(hours=1)) == 1
    assert await sql(system, "SELECT 1 FROM notify.orders WHERE order_id = $1", order_id) == []
