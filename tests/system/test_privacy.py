"""A person's rights across the three services: export, erasure (also with a service down), the notice,
retention against the clock, and logs that hold no coordinates or tokens."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from services.geo.privacy.jobs import enforce_retention as geo_retention
from services.geo.settings import GeoSettings
from services.notify.privacy.jobs import enforce_retention as notify_retention
from shared.logging import JsonFormatter
from tests.conftest import System, eventually
from tests.support.builders import STORE, create_store, shopper, walk_in


@pytest.fixture
def configs() -> dict[str, Any]:
    return {"geo": GeoSettings(ping_retention_hours=12, history_days=30)}


async def shopper_with_history(system: System) -> tuple[str, dict[str, str], str]:
    """A shopper who consented, walked into a store and ordered there."""
    await create_store(system)
    admin = system.admin
    await system.inventory.put("/v1/products/TEA-1", json={"name": "Green tea", "category": "tea"}, headers=admin)
    await system.inventory.put("/v1/stores/rivoli/stock/TEA-1", json={"on_hand": 3}, headers=admin)
    who = await shopper(system, location=True, pickup_updates=True)
    device_id, auth = who.device_id, who.auth
    r = await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=auth)
    assert r.json()["accepted"] == 11
    r = await system.inventory.post(
        "/v1/orders",
        json={"store_id": "rivoli", "lines": [{"sku": "TEA-1", "qty": 1}], "display_name": "Sam"},
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code in (200, 201), r.text
    return device_id, auth, r.json()["order_id"]


async def test_the_export_holds_what_the_three_services_keep(system: System) -> None:
    device_id, auth, order_id = await shopper_with_history(system)
    r = await system.notify.get(f"/v1/devices/{device_id}/export", headers=auth)
    assert r.status_code == 200, r.text
    export = r.json()
    assert export["notify"]["consents"]["location"] is True
    assert len(export["notify"]["consent_history"]) == 1
    assert len(export["geo"]["pings"]) == 11 and export["geo"]["current_visits"][0]["zone_id"] == "main"
    position = export["geo"]["position"]  # the newest fix, kept beside the pings
    assert position["last_fix"]["lat"] == pytest.approx(STORE["lat"])
    assert datetime.fromisoformat(position["last_ts"]) == datetime.fromisoformat(position["last_fix"]["ts"])
    assert position["outlier"] is None and position["suspicious_at"] is None
    # What presence keeps to judge speed is there too: the walk's fixes of the last half minute.
    assert position["recent_fixes"] and position["recent_fixes"][-1] == position["last_fix"]
    assert position["pending_entries"] == [] and position["last_sighting_at"] is None
    assert [o["order_id"] for o in export["inventory"]["orders"]] == [order_id]
    # The event log's events about the device, from every service, oldest first, as the events are.
    events = export["events"]
    assert [e["type"] for e in events] == ["consent.changed", "zone.entered", "order.reserved"]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert all(e["device_id"] == device_id for e in events)
    assert events[0]["data"]["purposes"] == {
        "location": True,
        "pickup_updates": True,
        "offers": False,
        "product_tips": False,
    }
    assert (events[1]["store_id"], events[1]["zone_id"], events[1]["data"]["kind"]) == ("rivoli", "main", "store")
    assert (events[2]["order_id"], events[2]["data"]["lines"]) == (order_id, [{"sku": "TEA-1", "qty": 1}])
    other = (await shopper(system)).auth
    assert (await system.notify.get(f"/v1/devices/{device_id}/export", headers=other)).status_code == 403


async def erasure_completes(system: System, erasure_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        body = (await system.notify.get(f"/v1/erasures/{erasure_id}")).json()
        return body if body["status"] == "completed" else None

    return await eventually(done)


async def _refused(client: httpx.AsyncClient, path: str, auth: dict[str, str]) -> bool:
    return (await client.get(path, headers=auth)).status_code == 401


async def test_erasure_removes_the_device_everywhere_and_its_token_stops_working(system: System, db) -> None:
    device_id, auth, order_id = await shopper_with_history(system)
    r = await system.notify.delete(f"/v1/devices/{device_id}", headers=auth)
    assert r.status_code == 202, r.text
    erasure_id = r.json()["erasure_id"]

    # notify, which erased it, refuses the token at once; geo and inventory learn it from the
    # revocation notice, within 5 s.
    assert (await system.notify.get(f"/v1/devices/{device_id}/consents", headers=auth)).status_code == 401
    for client, path in (
        (system.geo, f"/v1/devices/{device_id}/context"),
        (system.inventory, f"/v1/orders/{order_id}"),
    ):
        await eventually(partial(_refused, client, path, auth), timeout=5)
    r = await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=auth)
    assert r.status_code == 401

    status = await erasure_completes(system, erasure_id)
    assert status["pending"] == []
    for table in (
        "geo.pings",
        "geo.visits",
        "geo.visit_log",
        "geo.devices",
        "geo.device_consents",
        "geo.trips",
        "notify.devices",
        "notify.messages",
        "bus.events",
    ):
        assert await db.fetchval(f"SELECT count(*) FROM {table} WHERE device_id = $1", device_id) == 0, table
    proof = await db.fetch("SELECT device_id, user_agent, purposes FROM notify.consent_history")
    assert len(proof) == 1 and proof[0]["device_id"].startswith("erased:") and proof[0]["user_agent"] is None
    order = await db.fetchrow("SELECT device_id, display_name FROM inventory.orders WHERE order_id = $1", order_id)
    assert order["device_id"].startswith("erased:") and order["display_name"] is None

    again = await system.notify.delete(f"/v1/devices/{device_id}", headers=system.admin)
    assert again.status_code == 200 and again.json()["erasure_id"] == erasure_id


async def test_an_erasure_made_while_geo_is_down_completes_when_it_comes_back(system: System, db) -> None:
    device_id, auth, _ = await shopper_with_history(system)
    await system.running.stop("geo")
    r = await system.notify.delete(f"/v1/devices/{device_id}", headers=auth)
    assert r.status_code == 202
    erasure_id = r.json()["erasure_id"]
    await eventually(lambda: _pending_is(system, erasure_id, ["geo"]))
    assert await db.fetchval("SELECT count(*) FROM geo.pings WHERE device_id = $1", device_id) == 11

    await system.running.start("geo")
    await erasure_completes(system, erasure_id)
    assert await db.fetchval("SELECT count(*) FROM geo.pings WHERE device_id = $1", device_id) == 0


async def _pending_is(system: System, erasure_id: str, pending: list[str]) -> bool:
    return (await system.notify.get(f"/v1/erasures/{erasure_id}")).json()["pending"] == pending


async def test_the_privacy_notice_states_the_running_retention_in_both_languages(system: System) -> None:
    r = await system.notify.get("/v1/privacy")
    assert r.status_code == 200
    geo = {c["data"]: c for c in r.json()["collects"]["geo"]}
    # from this run's settings (12 h), and the hour a partition of them spans before it is dropped whole
    assert geo["location_pings"]["kept"] == {"unit": "hours", "value": 14}
    assert geo["visits"]["kept"] == {"unit": "days", "value": 30}
    fr = (await system.notify.get("/v1/privacy", params={"lang": "fr"})).json()
    assert "magasin" in fr["purposes"]["location"]
    assert set(r.json()["purposes"]) == {"location", "pickup_updates", "offers", "product_tips"}


async def test_retention_coarsens_then_deletes_history_as_time_passes(system: System, db) -> None:
    device_id, auth, _ = await shopper_with_history(system)
    far = walk_in()[0]  # 300 m away, twice 5 s apart: a clear move away, the visit ends
    gone = [{**far, "ts": (datetime.now(UTC) - timedelta(seconds=s)).isoformat()} for s in (5, 0)]
    await system.geo.post("/v1/pings", json={"pings": gone}, headers=auth)
    assert await db.fetchval("SELECT count(*) FROM geo.visit_log WHERE device_id = $1", device_id) == 1
    state = system.running.state("geo")
    now = datetime.now(UTC)

    await geo_retention(state, now + timedelta(hours=11))
    assert await db.fetchval("SELECT last_fix IS NOT NULL FROM geo.devices WHERE device_id = $1", device_id)
    await geo_retention(state, now + timedelta(hours=13))
    assert await db.fetchval("SELECT last_fix IS NULL FROM geo.devices WHERE device_id = $1", device_id)
    assert await db.fetchval("SELECT evidence IS NULL FROM geo.devices WHERE device_id = $1", device_id)
    assert await db.fetchval("SELECT count(*) FROM geo.visit_log WHERE device_id = $1", device_id) == 1
    await geo_retention(state, now + timedelta(days=31))
    assert await db.fetchval("SELECT count(*) FROM geo.visit_log WHERE device_id = $1", device_id) == 0

    notify_state = system.running.state("notify")
    await db.execute(
        """
        INSERT INTO notify.messages (device_id, event_id, purpose, status, reason)
        VALUES ($1, 0, 'offers', 'suppressed', 'no_consent')
        """,
        device_id,
    )
    assert await notify_retention(notify_state, now + timedelta(days=89)) == 0
    assert await notify_retention(notify_state, now + timedelta(days=91)) == 1


class Kept(logging.Handler):
    """Every record of the services' own loggers, on the `accueil` logger itself: whatever handlers the
    root logger has, these are the lines an operator's collector would get."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def accueil_logs() -> Iterator[list[logging.LogRecord]]:
    logger, kept = logging.getLogger("accueil"), Kept()
    level = logger.level
    logger.addHandler(kept)
    logger.setLevel(logging.DEBUG)
    try:
        yield kept.records
    finally:
        logger.removeHandler(kept)
        logger.setLevel(level)


async def test_logs_hold_no_coordinates_and_no_tokens(
    system: System, caplog: pytest.LogCaptureFixture, accueil_logs: list[logging.LogRecord]
) -> None:
    caplog.set_level(logging.DEBUG)  # the libraries' lines too (the server's, the HTTP clients')
    device_id, auth, _ = await shopper_with_history(system)
    await system.geo.post("/v1/pings", json={"pings": [{"lat": 123}]}, headers=auth)  # a refused upload
    # geo restarts with the shopper's visit on record: it logs its start and its reloaded zone index.
    await system.running.stop("geo")
    await system.running.start("geo")
    await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=auth)
    await system.notify.delete(f"/v1/devices/{device_id}", headers=auth)

    # Nothing to find in nothing: first, the services' own lines were captured.
    assert {r.name for r in accueil_logs} >= {"accueil.app", "accueil.geo.zones"}, [r.name for r in accueil_logs]
    # Each as the services write it (shared/logging.py: the message and every extra field), and the rest.
    formatter = JsonFormatter("test")
    text = "\n".join([caplog.text, *(formatter.format(r) for r in accueil_logs)])
    token = auth["Authorization"].split()[1]
    assert token not in text and system.admin["Authorization"].split()[1] not in text
    assert "48.86" not in text and "2.347" not in text


async def test_the_export_holds_every_order_of_a_long_time_customer(system: System, db) -> None:
    device_id, auth, order_id = await shopper_with_history(system)
    # Years of orders (more than one page of inventory's answer), as they would have accumulated.
    await db.execute(
        """
        INSERT INTO inventory.orders (order_id, device_id, store_id, status, created_at, ready_at, collected_at)
        SELECT 'ord_old_' || i, $1, 'rivoli', 'collected', now() - make_interval(days => i),
               now() - make_interval(days => i), now() - make_interval(days => i)
        FROM generate_series(1, 1200) AS i
        """,
        device_id,
    )
    r = await system.notify.get(f"/v1/devices/{device_id}/export", headers=auth)
    assert r.status_code == 200, r.text
    orders = [o["order_id"] for o in r.json()["inventory"]["orders"]]
    assert len(orders) == 1201 and len(set(orders)) == 1201 and orders[0] == order_id  # newest first


async def text_holding(db, needle: str) -> list[str]:
    """Every column of every table of the three services and the bus whose text holds `needle`."""
    columns = await db.fetch(
        """
        SELECT table_schema, table_name, column_name FROM information_schema.columns
        WHERE table_schema IN ('geo', 'inventory', 'notify', 'bus')
          AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')
          AND table_name IN (SELECT table_name FROM information_schema.tables
                             WHERE table_schema = columns.table_schema AND table_type = 'BASE TABLE')
        """
    )
    assert len(columns) > 30  # the scan sees the schemas' text columns
    found = []
    for c in columns:
        where = f'"{c["table_schema"]}"."{c["table_name"]}"'
        if await db.fetchval(f'SELECT count(*) FROM {where} WHERE "{c["column_name"]}"::text LIKE $1', f"%{needle}%"):
            found.append(f"{c['table_schema']}.{c['table_name']}.{c['column_name']}")
    return found


async def test_after_an_erasure_no_table_holds_the_device_its_name_or_its_words(system: System, push, db) -> None:
    from tests.support.builders import customer, pickup_store, place_order, product, pull_in, staff_member

    await pickup_store(system)
    await product(system, "JAM-1", "Jam", 0)  # sold out: the shopper asks to be told when it is back
    alex = await staff_member(system)
    tablet = push.subscriber((await system.notify.get("/v1/vapid-public-key")).json()["public_key"])
    r = await system.notify.put(f"/v1/staff/{alex.staff_id}/push-subscription", json=tablet.subscription(),
                                headers=alex.auth)  # fmt: skip
    assert r.status_code == 200, r.text
    who = await customer(system, push, location=True)
    name, words = "Zebulon", "Zebulon ne peut pas venir"
    await pull_in(system, who, await place_order(system, who, name=name))  # staff alerted: "Zebulon ... bay 2"
    other = await place_order(system, who, name=name)
    r = await system.inventory.post(f"/v1/orders/{other}/cancel", json={"reason": words}, headers=who.auth)
    assert r.status_code == 200, r.text
    r = await system.notify.put(
        f"/v1/devices/{who.device_id}/back-in-stock/rivoli/JAM-1", json={"shown": words}, headers=who.auth
    )
    assert r.status_code == 200, r.text

    async def staff_told() -> bool:
        return bool(await db.fetchval("SELECT count(*) FROM notify.messages WHERE body LIKE '%Zebulon%'"))

    await eventually(staff_told)
    assert await text_holding(db, who.device_id) and await text_holding(db, name)  # what the scan must clear

    r = await system.notify.delete(f"/v1/devices/{who.device_id}", headers=who.auth)
    assert r.status_code == 202, r.text
    await erasure_completes(system, r.json()["erasure_id"])
    # The revocation list goes on refusing the erased device's token under a keyed hash of its id.
    assert await text_holding(db, who.device_id) == []
    for needle in (name, words):
        assert await text_holding(db, needle) == [], needle
