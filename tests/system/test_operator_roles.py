"""The operator roles on every route of the three services, from one table (docs/api-guide.md,
"Operator roles"): an admin operator does everything, a marketer campaigns, journeys, their results and
the console's reads, a store manager its own store's staff, stock, orders, alerts and zones (read).
"ok" means the call got past authorization (2xx, or a 409 about the resource's state); a store manager
of another store is refused (403), or told that a thing of that store does not exist (404) where a
staff member of another store is."""

from __future__ import annotations

from typing import Any

from shared.auth import TokenSigner
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System, eventually
from tests.support.access import Case, outcome
from tests.support.builders import SKU, STORE, TEXTS, customer, pickup_store, place_order, pull_in, staff_member

ROLES = ("admin_op", "marketer", "manager", "other_manager")
"""An admin operator, a marketer, the manager of rivoli, and the manager of opera only."""
ADMIN, MARKETER, MANAGER = {"admin_op"}, {"admin_op", "marketer"}, {"admin_op", "manager"}
CAMPAIGN = {"trigger": {"type": "zone.entered", "zone_kind": "store"}, "sku": SKU, "message": TEXTS}
BEACON = {"uuid": "f7826da6-4fa2-4e98-8024-bc5b71e0893e", "major": 1, "minor": 2}
JOURNEY = {
    "name": "Welcome",
    "entry": {"event": "zone.entered", "zone_kind": "store"},
    "steps": [{"id": "offer", "type": "message", "purpose": "offers", "sku": SKU, "message": TEXTS}],
}
DELIVERY = {"delta": 1, "reason": "delivery"}
IMPORT = {"rows": [{"store_id": "rivoli", "sku": SKU, "on_hand": 9}]}
ZONE = {"kind": "department", "circle": {"lat": STORE["lat"], "lng": STORE["lng"], "radius_m": 10}}


def operator_tokens() -> dict[str, str]:
    signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)  # what notify signs after single sign-on
    return {
        "admin_op": signer.issue("admin", "ops@example.com", ttl_s=900),
        "marketer": signer.issue("marketer", "mia@example.com", ttl_s=900),
        "manager": signer.issue("store_manager", "sam@example.com", ttl_s=900, extra={"stores": ["rivoli"]}),
        "other_manager": signer.issue("store_manager", "oli@example.com", ttl_s=900, extra={"stores": ["opera"]}),
    }


def cases() -> list[Case]:
    """Paths name the world's things (`{order}`, ...), and `{mine}` one thing of each caller's own for
    them to remove."""
    every = set(ROLES)
    readers = {"admin_op", "marketer", "manager"}  # of rivoli's store and zones
    return [
        # geo: the admin sets stores up, everyone reads (a manager, their own stores)
        Case("geo", "PUT", "/v1/stores/rivoli", ADMIN, body=STORE),
        Case("geo", "GET", "/v1/stores", every),
        Case("geo", "GET", "/v1/stores/rivoli", readers),
        Case("geo", "GET", "/v1/stores/rivoli/zones", readers),
        Case("geo", "PUT", "/v1/stores/rivoli/zones/z9", ADMIN, body=ZONE),
        Case("geo", "DELETE", "/v1/stores/rivoli/zones/{mine}", ADMIN),
        Case("geo", "GET", "/v1/stores/rivoli/beacons", MARKETER),
        Case("geo", "GET", "/v1/stores/rivoli/occupancy", MARKETER),
        Case("geo", "PUT", "/v1/stores/rivoli/beacons/b1", ADMIN, body={"zone_id": "main", "ibeacon": BEACON}),
        Case("geo", "DELETE", "/v1/stores/rivoli/beacons/b1", ADMIN),
        Case("geo", "GET", "/v1/stores/rivoli/trips", MANAGER),
        Case("geo", "GET", "/v1/trips/{trip}", MANAGER, hidden={"other_manager"}),
        Case("geo", "GET", "/v1/devices/{device}/context", ADMIN),
        Case("geo", "GET", "/v1/devices/{device}/data", ADMIN),
        Case("geo", "POST", "/v1/pings", set(), body={"pings": []}),  # a device's own call
        Case("geo", "GET", "/v1/events", ADMIN),
        # inventory: the admin keeps the catalogue, a manager their store's stock and orders
        Case("inventory", "PUT", f"/v1/products/{SKU}", ADMIN, body={"name": "Veg box", "category": "fresh"}),
        Case("inventory", "GET", "/v1/products?q=veg", every),
        Case("inventory", "GET", f"/v1/products/{SKU}", every),
        Case("inventory", "GET", "/v1/stores/rivoli/stock", MANAGER),
        Case("inventory", "GET", f"/v1/stores/rivoli/alternatives/{SKU}", MANAGER),
        Case("inventory", "PUT", f"/v1/stores/rivoli/stock/{SKU}", MANAGER, body={"on_hand": 9}),
        Case("inventory", "POST", f"/v1/stores/rivoli/stock/{SKU}/adjustments", MANAGER, body=DELIVERY),
        Case("inventory", "GET", f"/v1/stores/rivoli/stock/{SKU}/ledger", MANAGER),
        Case("inventory", "POST", "/v1/stock/import", ADMIN, body=IMPORT),
        Case("inventory", "GET", "/v1/stores/rivoli/orders", MANAGER),
        Case("inventory", "GET", "/v1/orders/{order}", MANAGER, hidden={"other_manager"}),
        Case("inventory", "POST", "/v1/orders/{order}/ready", MANAGER, hidden={"other_manager"}),
        Case("inventory", "GET", "/v1/devices/{device}/orders", ADMIN),
        Case("inventory", "GET", "/v1/events", ADMIN),
        # notify: campaigns and journeys are the marketer's
        Case("notify", "PUT", "/v1/campaigns/c1", MARKETER, body=CAMPAIGN),
        Case("notify", "GET", "/v1/campaigns", MARKETER),
        Case("notify", "GET", "/v1/campaigns/c1", MARKETER),
        Case("notify", "GET", "/v1/campaigns/c1/results", MARKETER),
        Case("notify", "POST", "/v1/campaigns/dry-run", MARKETER, body=CAMPAIGN),
        Case("notify", "POST", "/v1/journeys/dry-run", MARKETER, body=JOURNEY),
        Case("notify", "DELETE", "/v1/campaigns/{mine}", MARKETER),
        Case("notify", "PUT", "/v1/journeys/j1", MARKETER, body=JOURNEY),
        Case("notify", "GET", "/v1/journeys", MARKETER),
        Case("notify", "GET", "/v1/journeys/j1", MARKETER),
        Case("notify", "GET", "/v1/journeys/j1/results", MARKETER),
        Case("notify", "DELETE", "/v1/journeys/{mine}", MARKETER),
        Case("notify", "GET", "/v1/console/overview", MARKETER),
        # ... staff and alerts the store manager's
        Case("notify", "POST", "/v1/stores/rivoli/staff", MANAGER, body={"name": "Noa"}),
        Case("notify", "GET", "/v1/stores/rivoli/staff", MANAGER),
        Case("notify", "GET", "/v1/staff/{staff}", MANAGER),
        Case("notify", "POST", "/v1/staff/{staff}/token", MANAGER),
        Case("notify", "DELETE", "/v1/staff/{staff}/push-token", MANAGER),
        Case("notify", "DELETE", "/v1/staff/{staff}/push-subscription", MANAGER),
        Case("notify", "DELETE", "/v1/staff/{mine}", MANAGER),
        Case("notify", "GET", "/v1/stores/rivoli/alerts", MANAGER),
        Case("notify", "POST", "/v1/stores/rivoli/alerts/stream-ticket", MANAGER),
        Case("notify", "POST", "/v1/alerts/{alert}/ack", MANAGER, hidden={"other_manager"}),
        # ... the rest the admin's, and a shopper's data the shopper's (and the admin's)
        Case("notify", "GET", "/v1/webhooks", ADMIN),
        Case("notify", "GET", "/v1/events", ADMIN),
        Case("notify", "GET", "/v1/devices/{device}/consents", ADMIN),
        Case("notify", "GET", "/v1/devices/{device}/messages", ADMIN),
        Case("notify", "GET", "/v1/devices/{device}/export", ADMIN),
        Case("notify", "GET", "/v1/devices/{device}/journeys", ADMIN),
        # last: they end the trip the alert is about
        Case("geo", "POST", "/v1/trips/{trip}/cancel", MANAGER, hidden={"other_manager"}),
        Case("inventory", "POST", "/v1/orders/{order}/cancel", MANAGER, hidden={"other_manager"}),
    ]  # fmt: skip


async def world(system: System) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """rivoli with its pickup zones and stock, and opera; a shopper who ordered at rivoli and pulled into
    its bay (so rivoli has an alert), a staff member of rivoli; and for each role, a zone, a campaign, a
    journey and a staff member of rivoli of its own to remove."""
    await pickup_store(system)
    assert (await system.geo.put("/v1/stores/opera", json=STORE, headers=system.admin)).status_code == 200
    who = await customer(system, None)
    order = await place_order(system, who)
    trip = await pull_in(system, who, order)
    alerts = await eventually(lambda: _alerts(system))
    alex = await staff_member(system)
    ids = {"device": who.device_id, "order": order, "trip": trip, "alert": str(alerts[0]["alert_id"])}
    ids["staff"] = alex.staff_id
    mine: dict[str, dict[str, str]] = {}
    for role in ROLES:
        admin = system.admin
        zone, campaign, journey = f"zone-{role}", f"camp-{role}", f"jour-{role}"
        r = await system.geo.put(f"/v1/stores/rivoli/zones/{zone}", json=ZONE, headers=admin)
        assert r.status_code == 200, r.text
        assert (await system.notify.put(f"/v1/campaigns/{campaign}", json=CAMPAIGN, headers=admin)).status_code == 200
        assert (await system.notify.put(f"/v1/journeys/{journey}", json=JOURNEY, headers=admin)).status_code == 200
        leaver = (await staff_member(system, name=f"Leaver {role}")).staff_id
        mine[role] = {"/v1/stores/rivoli/zones/": zone, "/v1/campaigns/": campaign, "/v1/journeys/": journey}
        mine[role]["/v1/staff/"] = leaver
    return ids, mine


async def _alerts(system: System) -> list[dict[str, Any]]:
    r = await system.notify.get("/v1/stores/rivoli/alerts", headers=system.admin)
    return r.json()["alerts"] if r.status_code == 200 else []


def path_of(case: Case, ids: dict[str, str], mine: dict[str, str]) -> str:
    if "{mine}" in case.path:
        prefix = case.path.removesuffix("{mine}")
        return prefix + mine[prefix]
    return case.path.format(**ids)


async def test_every_route_answers_each_operator_role_as_the_table_says(system: System) -> None:
    ids, mine = await world(system)
    tokens = operator_tokens()
    clients = {"geo": system.geo, "inventory": system.inventory, "notify": system.notify}
    wrong, seen = [], set()
    for case in cases():
        for role in ROLES:
            path = path_of(case, ids, mine[role])
            r = await clients[case.service].request(
                case.method, path, json=case.body, headers=System.bearer(tokens[role])
            )
            seen.add(outcome(r.status_code))
            want = case.expected(role)
            if outcome(r.status_code) != want:
                wrong.append(
                    f"{case.method} {case.service}{path} as {role}: {r.status_code} {r.text[:99]}, expected {want}"
                )
    assert {"ok", "403", "404"} <= seen
    assert wrong == [], "\n".join(wrong)


async def test_a_store_manager_lists_only_their_own_stores(system: System) -> None:
    await pickup_store(system)
    for store_id in ("opera", "bastille"):
        assert (await system.geo.put(f"/v1/stores/{store_id}", json=STORE, headers=system.admin)).status_code == 200
    signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)
    manager = System.bearer(signer.issue("store_manager", "sam@example.com", extra={"stores": ["rivoli", "opera"]}))
    marketer = System.bearer(signer.issue("marketer", "mia@example.com"))

    async def listed(auth: dict[str, str], **params: Any) -> list[str]:
        r = await system.geo.get("/v1/stores", params=params, headers=auth)
        assert r.status_code == 200, r.text
        return [s["store_id"] for s in r.json()["stores"]]

    assert await listed(marketer) == ["bastille", "opera", "rivoli"]
    assert await listed(manager) == ["opera", "rivoli"]
    page = (await system.geo.get("/v1/stores", params={"limit": 1}, headers=manager)).json()
    assert [s["store_id"] for s in page["stores"]] == ["opera"] and page["next_after"] == "opera"
    assert await listed(manager, after="opera") == ["rivoli"]


async def test_a_store_manager_manages_their_stores_staff_and_no_other_stores(system: System) -> None:
    await pickup_store(system)
    assert (await system.geo.put("/v1/stores/opera", json=STORE, headers=system.admin)).status_code == 200
    signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)
    manager = System.bearer(signer.issue("store_manager", "sam@example.com", extra={"stores": ["rivoli"]}))
    r = await system.notify.post("/v1/stores/rivoli/staff", json={"name": "Noa"}, headers=manager)
    assert r.status_code == 201, r.text
    noa = r.json()
    assert (
        await system.notify.get(f"/v1/staff/{noa['staff_id']}", headers=System.bearer(noa["token"]))
    ).status_code == 200
    elsewhere = await staff_member(system, store_id="opera", name="Eli")
    r = await system.notify.get("/v1/stores/rivoli/staff", headers=manager)
    assert r.status_code == 200, r.text
    assert [(s["staff_id"], s["name"]) for s in r.json()["staff"]] == [(noa["staff_id"], "Noa")]
    for method, path in (
        ("POST", "/v1/stores/opera/staff"),
        ("GET", "/v1/stores/opera/staff"),
        ("GET", f"/v1/staff/{elsewhere.staff_id}"),
        ("POST", f"/v1/staff/{elsewhere.staff_id}/token"),
        ("DELETE", f"/v1/staff/{elsewhere.staff_id}"),
    ):
        r = await system.notify.request(
            method, path, json={"name": "Eve"} if method == "POST" else None, headers=manager
        )
        assert r.status_code == 403, (method, path, r.text)
    assert (await system.notify.get(f"/v1/staff/{elsewhere.staff_id}", headers=elsewhere.auth)).status_code == 200
    # Removing their own staff member ends that member's tokens, as the admin's removal does.
    assert (await system.notify.delete(f"/v1/staff/{noa['staff_id']}", headers=manager)).status_code == 204
    gone = await system.notify.get(f"/v1/staff/{noa['staff_id']}", headers=System.bearer(noa["token"]))
    assert gone.status_code == 401
    assert (await system.notify.get("/v1/stores/rivoli/staff", headers=manager)).json()["staff"] == []


async def test_a_marketer_puts_a_campaign_and_reads_its_results_but_opens_no_staff_management(system: System) -> None:
    await pickup_store(system)
    marketer = System.bearer(TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("marketer", "mia@example.com", ttl_s=900))
    r = await system.notify.put("/v1/campaigns/welcome", json=CAMPAIGN, headers=marketer)
    assert r.status_code == 200, r.text
    r = await system.notify.get("/v1/campaigns/welcome/results", headers=marketer)
    assert r.status_code == 200 and r.json()["decided"] == 0, r.text
    overview = await system.notify.get("/v1/console/overview", headers=marketer)
    assert [c["campaign_id"] for c in overview.json()["campaigns"]] == ["welcome"]
    for method, path in (("GET", "/v1/stores/rivoli/staff"), ("POST", "/v1/stores/rivoli/staff")):
        r = await system.notify.request(
            method, path, json={"name": "Eve"} if method == "POST" else None, headers=marketer
        )
        assert r.status_code == 403, r.text


async def test_a_staff_members_push_targets_are_refused_to_a_marketer_and_another_stores_manager(
    system: System,
) -> None:
    """The two staff routes the table leaves out (their bodies name push services this system does not
    run): a marketer and another store's manager are refused before the body is looked at; the store's
    manager gets past authorization, to the push service's check."""
    await pickup_store(system)
    alex = await staff_member(system)
    tokens = operator_tokens()
    subscription = {"endpoint": "https://push.example.com/send/abc", "keys": {"p256dh": "x" * 87, "auth": "y" * 22}}
    for path, body in (("push-subscription", subscription), ("push-token", {"provider": "fcm", "token": "f" * 40})):
        for role, status in (("marketer", 403), ("other_manager", 403), ("manager", 422)):
            r = await system.notify.put(
                f"/v1/staff/{alex.staff_id}/{path}", json=body, headers=System.bearer(tokens[role])
            )
            assert r.status_code == status, (path, role, r.text)
