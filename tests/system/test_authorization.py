"""Who may do what: every protected endpoint of the three services against every kind of caller,
from one table. "ok" means the call got past authorization (2xx, or a 409 about the resource's state)."""

from __future__ import annotations

import uuid

import httpx

from shared.auth import TokenSigner
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System
from tests.support.access import Case, outcome
from tests.support.builders import STORE, create_store, shopper

ROLES = ("admin", "device_a", "device_b", "staff_a", "staff_b")
NO_ENTRY = {"none": None, "forged": "forged", "expired": "expired"}


def cases(ids: dict[str, str]) -> list[Case]:
    a, order, trip, staff_a, leaver = ids["device_a"], ids["order"], ids["trip"], ids["staff_a"], ids["leaver"]
    everyone = set(ROLES)
    return [
        # geo
        Case("geo", "PUT", "/v1/stores/rivoli", {"admin"}, body=STORE),
        Case("geo", "GET", "/v1/stores/rivoli", everyone),
        Case("geo", "GET", "/v1/stores/rivoli/zones", everyone),
        Case("geo", "GET", "/v1/stores", {"admin"}),
        Case("geo", "GET", "/v1/stores/rivoli/beacons", {"admin"}),
        Case("geo", "GET", "/v1/stores/rivoli/occupancy", {"admin"}),
        Case(
            "geo",
            "PUT",
            "/v1/stores/rivoli/zones/z9",
            {"admin"},
            body={"kind": "department", "circle": {"lat": 48.86, "lng": 2.347, "radius_m": 10}},
        ),
        Case("geo", "POST", "/v1/pings", {"device_a", "device_b"}, body={"pings": []}),
        Case("geo", "GET", f"/v1/devices/{a}/context", {"admin", "device_a"}),
        Case("geo", "GET", f"/v1/devices/{a}/data", {"admin", "device_a"}),
        Case("geo", "GET", f"/v1/trips/{trip}", {"admin", "device_a", "staff_a"}, hidden={"device_b", "staff_b"}),
        Case("geo", "GET", "/v1/stores/rivoli/trips", {"admin", "staff_a"}),
        Case("geo", "GET", "/v1/events", {"admin"}),
        # inventory
        Case("inventory", "PUT", "/v1/products/TEA-1", {"admin"}, body={"name": "Green tea", "category": "tea"}),
        Case("inventory", "PUT", "/v1/stores/rivoli/stock/TEA-1", {"admin", "staff_a"}, body={"on_hand": 10}),
        Case("inventory", "GET", "/v1/stores/rivoli/stock", everyone),
        Case(
            "inventory", "GET", f"/v1/orders/{order}", {"admin", "device_a", "staff_a"}, hidden={"device_b", "staff_b"}
        ),
        Case("inventory", "POST", f"/v1/orders/{order}/ready", {"admin", "staff_a"}, hidden={"device_b", "staff_b"}),
        Case("inventory", "GET", f"/v1/devices/{a}/orders", {"admin", "device_a"}),
        Case("inventory", "GET", "/v1/events", {"admin"}),
        # notify
        Case("notify", "GET", f"/v1/devices/{a}/consents", {"admin", "device_a"}),
        Case("notify", "GET", f"/v1/devices/{a}/messages", {"admin", "device_a"}),
        Case("notify", "GET", f"/v1/devices/{a}/export", {"admin", "device_a"}),
        Case(
            "notify",
            "PUT",
            "/v1/campaigns/c1",
            {"admin"},
            body={"trigger": {"type": "zone.entered"}, "sku": "TEA-1", "message": {"en": {"title": "t", "body": "b"}}},
        ),
        Case(
            "notify",
            "POST",
            "/v1/campaigns/dry-run",
            {"admin"},
            body={"trigger": {"type": "zone.entered"}, "sku": "TEA-1", "message": {"en": {"title": "t", "body": "b"}}},
        ),
        Case(
            "notify",
            "POST",
            "/v1/journeys/dry-run",
            {"admin"},
            body={"name": "j", "entry": {"event": "zone.entered"}, "steps": [{"id": "end", "type": "exit"}]},
        ),
        Case("notify", "GET", "/v1/campaigns", {"admin"}),
        Case("notify", "GET", "/v1/campaigns/c1", {"admin"}),
        Case("notify", "GET", "/v1/campaigns/c1/results", {"admin"}),
        Case("notify", "DELETE", "/v1/campaigns/c1", {"admin"}),
        # only the device a message was sent to may report on it; to any other it does not exist
        Case(
            "notify",
            "POST",
            "/v1/messages/999999999/events",
            set(),
            hidden={"device_a", "device_b"},
            body={"type": "shown", "ts": "2026-01-01T00:00:00Z"},
        ),  # fmt: skip
        # a shopper's own request: not even the operator asks on their behalf (TEA-1 is in stock: 409)
        Case("notify", "PUT", f"/v1/devices/{a}/back-in-stock/rivoli/TEA-1", {"device_a"}),
        Case("notify", "DELETE", f"/v1/devices/{a}/back-in-stock/rivoli/TEA-1", set(), hidden={"device_a"}),
        Case("notify", "POST", "/v1/stores/rivoli/staff", {"admin"}, body={"name": "Alex"}),
        Case("notify", "GET", "/v1/stores/rivoli/alerts", {"admin", "staff_a"}),
        Case("notify", "POST", f"/v1/staff/{staff_a}/token", {"admin", "staff_a"}),
        Case("notify", "DELETE", f"/v1/staff/{leaver}", {"admin"}),
        Case("notify", "GET", "/v1/events", {"admin"}),
        Case("notify", "GET", "/v1/webhooks", {"admin"}),
        Case("notify", "GET", "/v1/console/overview", {"admin"}),
    ]


async def world(system: System) -> tuple[dict[str, str], dict[str, str | None]]:
    """Two stores, two shoppers (A ordered at rivoli and is on the way), a staff member of each store (and
    one of rivoli about to leave)."""
    await create_store(system)
    await system.geo.put("/v1/stores/opera", json={**STORE, "name": "Opéra"}, headers=system.admin)
    await system.inventory.put(
        "/v1/products/TEA-1", json={"name": "Green tea", "category": "tea"}, headers=system.admin
    )
    await system.inventory.put("/v1/stores/rivoli/stock/TEA-1", json={"on_hand": 5}, headers=system.admin)
    who = await shopper(system, location=True)
    device_a, auth_a = who.device_id, who.auth
    auth_b = (await shopper(system, location=True)).auth
    r = await system.inventory.post(
        "/v1/orders",
        json={"store_id": "rivoli", "lines": [{"sku": "TEA-1", "qty": 1}]},
        headers={**auth_a, "Idempotency-Key": uuid.uuid4().hex},
    )
    order = r.json()["order_id"]
    r = await system.geo.post("/v1/trips", json={"order_id": order, "store_id": "rivoli"}, headers=auth_a)
    trip = r.json()["trip_id"]
    staff, staff_ids = {}, {}
    for role, store in (("staff_a", "rivoli"), ("staff_b", "opera"), ("leaver", "rivoli")):
        r = await system.notify.post(f"/v1/stores/{store}/staff", json={"name": role}, headers=system.admin)
        assert r.status_code == 201, r.text
        staff[role], staff_ids[role] = r.json()["token"], r.json()["staff_id"]
    del staff["leaver"]
    tokens: dict[str, str | None] = {
        "admin": ADMIN_TOKEN,
        "device_a": auth_a["Authorization"].split()[1],
        "device_b": auth_b["Authorization"].split()[1],
        **staff,
        "none": None,
        "forged": TokenSigner("another-key-" + "x" * 40, ADMIN_TOKEN).issue("device", device_a),
        "expired": TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("device", device_a, ttl_s=-60),
    }
    ids = {"device_a": device_a, "order": order, "trip": trip, "staff_a": staff_ids["staff_a"]}
    return {**ids, "leaver": staff_ids["leaver"]}, tokens


async def test_every_endpoint_answers_each_kind_of_caller_as_the_table_says(system: System) -> None:
    ids, tokens = await world(system)
    clients = {"geo": system.geo, "inventory": system.inventory, "notify": system.notify}
    wrong = []
    for case in cases(ids):
        for role in (*ROLES, *NO_ENTRY):
            token = tokens[role]
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            r: httpx.Response = await clients[case.service].request(
                case.method, case.path, json=case.body, headers=headers
            )
            want = "401" if role in NO_ENTRY else case.expected(role)
            if outcome(r.status_code) != want:
                wrong.append(f"{case.method} {case.service}{case.path} as {role}: {r.status_code}, expected {want}")
    assert wrong == [], "\n".join(wrong)


async def test_public_endpoints_need_no_token(system: System) -> None:
    assert (await system.notify.get("/v1/privacy")).status_code == 200
    assert (await system.notify.get("/v1/vapid-public-key")).status_code == 200
    assert (await system.notify.post("/v1/devices", json={"platform": "ios", "locale": "en"})).status_code == 201
    for client in (system.geo, system.inventory, system.notify):
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/schema/openapi.json")).status_code == 200
