"""The console's aggregate answer, gathered by notify from the real geo and inventory over HTTP: zones
with live counts (never a device), campaigns with their funnels, the latest decisions, and a clear
partial answer when a peer is down."""

from __future__ import annotations

from typing import Any

from tests.conftest import System, eventually
from tests.support.builders import CENTRE, SKU, leave, shopper
from tests.support.console import BEACON, console_store, walk_into_the_shop


async def overview(system: System) -> dict[str, Any]:
    r = await system.notify.get("/v1/console/overview", headers=system.admin)
    assert r.status_code == 200, r.text
    return r.json()


def counts(body: dict[str, Any], store_id: str = "rivoli") -> dict[str, int]:
    [store] = [s for s in body["stores"] if s["store_id"] == store_id]
    return {z["zone_id"]: z["devices"] for z in store["zones"]}


async def test_the_overview_has_the_stores_zones_drawn_from_geo_and_counts_a_shopper_in_and_out(system: System) -> None:
    await console_store(system)
    body = await overview(system)
    assert body["unavailable"] == []
    [store] = body["stores"]
    assert (store["name"], store["lat"], store["lng"]) == ("Rivoli", CENTRE[0], CENTRE[1])
    zones = {z["zone_id"]: z for z in store["zones"]}
    assert set(zones) == {"approach", "main", "bay-2", "fresh"}
    assert zones["bay-2"]["kind"] == "pickup" and zones["bay-2"]["circle"]["radius_m"] == 15
    assert zones["fresh"]["polygon"]["coordinates"][0][1] == [CENTRE[1] + 0.000137, CENTRE[0]]
    assert store["beacons"] == [{"beacon_id": "door", "zone_id": "bay-2"}]
    assert counts(body) == {"approach": 0, "main": 0, "bay-2": 0, "fresh": 0}

    # A shopper walks in: the shop and the approach around it count one device, and nothing says who.
    anna = await shopper(system, location=True, offers=True)
    await walk_into_the_shop(system, anna)
    body = await overview(system)
    assert counts(body) == {"approach": 1, "main": 1, "bay-2": 0, "fresh": 0}
    text = str(body)
    assert anna.device_id not in text and "device_id" not in text

    # geo's own count agrees: the console adds nothing to it.
    r = await system.geo.get("/v1/stores/rivoli/occupancy", headers=system.admin)
    assert r.status_code == 200, r.text
    assert {z["zone_id"]: z["devices"] for z in r.json()["zones"]} == counts(body)

    await leave(system, anna)
    assert counts(await overview(system))["main"] == 0


async def test_the_overview_has_each_campaign_with_its_funnel_and_the_latest_decisions_with_reasons(
    system: System,
) -> None:
    await console_store(system)
    anna = await shopper(system, location=True, offers=True)  # no push subscription: nothing can be sent
    await walk_into_the_shop(system, anna)

    async def decided() -> dict[str, Any] | None:
        body = await overview(system)
        return body if body["decisions"] else None

    body = await eventually(decided)
    [welcome] = body["campaigns"]
    assert (welcome["campaign_id"], welcome["status"], welcome["sku"], welcome["product"]) == (
        "welcome",
        "active",
        SKU,
        "Veg box",
    )
    assert (welcome["trigger"]["type"], welcome["trigger"]["zone_kind"]) == ("zone.entered", "store")
    funnel = welcome["results"]
    assert (funnel["decided"], funnel["sent"], funnel["shown"], funnel["clicked"], funnel["orders"]) == (1, 0, 0, 0, 0)
    assert funnel["suppressed"] == {"no_subscription": 1}
    [decision] = body["decisions"]
    assert decision["campaign_id"] == "welcome"
    assert (decision["status"], decision["reason"], decision["store_id"], decision["zone_id"]) == (
        "suppressed",
        "no_subscription",
        "rivoli",
        "main",
    )

    # Paused through the contract's own PUT: the console says so at once.
    r = await system.notify.get("/v1/campaigns/welcome", headers=system.admin)
    paused = {**r.json(), "active": False}
    r = await system.notify.put("/v1/campaigns/welcome", json=paused, headers=system.admin)
    assert r.status_code == 200, r.text
    assert [c["status"] for c in (await overview(system))["campaigns"]] == ["paused"]
    r = await system.notify.delete("/v1/campaigns/welcome", headers=system.admin)
    assert r.status_code in (200, 204), r.text
    assert [c["status"] for c in (await overview(system))["campaigns"]] == ["ended"]


async def test_a_peer_that_is_down_is_named_and_the_rest_of_the_overview_is_whole(system: System) -> None:
    await console_store(system)
    await system.running.stop("inventory")
    body = await overview(system)
    assert [u["service"] for u in body["unavailable"]] == ["inventory"]
    assert "product names" in body["unavailable"][0]["detail"]
    [welcome] = body["campaigns"]
    assert "product" not in welcome and welcome["sku"] == SKU
    assert set(counts(body)) == {"approach", "main", "bay-2", "fresh"}

    await system.running.stop("geo")
    body = await overview(system)
    assert [u["service"] for u in body["unavailable"]] == ["geo", "inventory"]
    assert body["stores"] == [] and [c["campaign_id"] for c in body["campaigns"]] == ["welcome"]

    await system.running.start("geo")
    await system.running.start("inventory")
    body = await overview(system)
    assert body["unavailable"] == [] and body["campaigns"][0]["product"] == "Veg box"


async def test_only_the_operator_sees_the_console_and_geo_counts_only_for_the_operator_and_services(
    system: System,
) -> None:
    await console_store(system)
    anna = await shopper(system, location=True)
    assert (await system.notify.get("/v1/console/overview")).status_code == 401
    assert (await system.notify.get("/v1/console/overview", headers=anna.auth)).status_code == 403
    assert (await system.geo.get("/v1/stores/rivoli/occupancy", headers=anna.auth)).status_code == 403
    r = await system.geo.get("/v1/stores/nowhere/occupancy", headers=system.admin)
    assert (r.status_code, r.json()["field"]) == (404, "store_id")
    r = await system.notify.get("/v1/console/overview?decisions=0", headers=system.admin)
    assert r.status_code in (400, 422) and "decisions" in r.text


async def test_geo_lists_its_stores_and_a_store_s_beacons(system: System) -> None:
    await console_store(system)
    r = await system.geo.put(
        "/v1/stores/opera", json={"name": "Opéra", "lat": 48.87, "lng": 2.33}, headers=system.admin
    )
    assert r.status_code == 200, r.text
    r = await system.geo.get("/v1/stores", headers=system.admin)
    assert [s["store_id"] for s in r.json()["stores"]] == ["opera", "rivoli"]
    pages, after = [], None
    while True:  # a page at a time, each page's next_after naming the next
        params = {"limit": "1"} | ({"after": after} if after else {})
        page = (await system.geo.get("/v1/stores", params=params, headers=system.admin)).json()
        pages.append([s["store_id"] for s in page["stores"]])
        after = page.get("next_after")
        if not after:
            break
    assert pages == [["opera"], ["rivoli"], []]
    r = await system.geo.get("/v1/stores", params={"after": "not a store id!"}, headers=system.admin)
    assert r.status_code in (400, 422) and r.json()["field"] == "after"
    r = await system.geo.get("/v1/stores/rivoli/beacons", headers=system.admin)
    assert r.json() == [{"store_id": "rivoli", "beacon_id": "door", **BEACON}]
