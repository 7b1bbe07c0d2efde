"""Contactless pickup: a shopper drives in, staff see approaching then arrived, once each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.geo.trips.jobs import expire_trips
from shared.geodesy import destination
from tests.conftest import System, eventually
from tests.helpers import STORE, ping, register

CENTRE = (STORE["lat"], STORE["lng"])
BAY = destination(*CENTRE, 90, 40)  # the pickup bay, 40 m east of the store's centre


async def pickup_store(system: System) -> None:
    admin = system.admin
    assert (await system.geo.put("/v1/stores/rivoli", json=STORE, headers=admin)).status_code == 200
    zones = {
        "approach": {"kind": "approach", "circle": {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 800}},
        "main": {"kind": "store", "circle": {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 30}},
        "bay-2": {"kind": "pickup", "name": "bay 2", "circle": {"lat": BAY[0], "lng": BAY[1], "radius_m": 15}},
    }
    for zone_id, body in zones.items():
        r = await system.geo.put(f"/v1/stores/rivoli/zones/{zone_id}", json=body, headers=admin)
        assert r.status_code == 200, r.text
    await system.inventory.put("/v1/products/BOX-1", json={"name": "Veg box", "category": "fresh"}, headers=admin)
    await system.inventory.put("/v1/stores/rivoli/stock/BOX-1", json={"on_hand": 5}, headers=admin)


async def order(system: System, auth: dict[str, str], store_id: str = "rivoli") -> str:
    r = await system.inventory.post(
        "/v1/orders",
        json={"store_id": store_id, "lines": [{"sku": "BOX-1", "qty": 1}], "display_name": "Camille"},
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["order_id"]


def drive_in(start: datetime, from_m: float = 3000, speed_mps: float = 10, step_s: int = 5) -> list[dict]:
    """A car heading west into the bay at a steady speed, GPS ±8 m, one fix every step_s."""
    fixes, t, d = [], start, from_m
    while d > 0:
        lat, lng = destination(*BAY, 90, d)
        fixes.append({**ping(lat, lng, t, accuracy_m=8), "speed_mps": speed_mps})
        t, d = t + timedelta(seconds=step_s), d - speed_mps * step_s
    for i in range(4):  # parked in the bay
        fixes.append(ping(*BAY, t + timedelta(seconds=i * step_s), accuracy_m=5))
    return fixes


async def test_a_drive_in_gives_approaching_then_arrived_once_each_even_without_location_consent(
    system: System,
) -> None:
    await pickup_store(system)
    device_id, auth = await register(system, location=False, pickup_updates=True)
    order_id = await order(system, auth)
    r = await system.geo.post(
        "/v1/trips", json={"order_id": order_id, "store_id": "rivoli", "mode": "car"}, headers=auth
    )
    assert r.status_code == 201, r.text
    trip_id = r.json()["trip_id"]
    assert r.json()["status"] == "started"

    track = drive_in(datetime.now(UTC) - timedelta(seconds=400))
    events = []
    for i in range(0, len(track), 6):  # uploaded in small batches; one batch sent twice
        batch = track[i : i + 6]
        body = (await system.geo.post("/v1/pings", json={"pings": batch}, headers=auth)).json()
        assert body["accepted"] == len(batch), body
        events += body["events"]
        if i == 12:
            events += (await system.geo.post("/v1/pings", json={"pings": batch}, headers=auth)).json()["events"]
    trip_events = list({e["id"]: e for e in events if e["type"].startswith("trip.")}.values())
    assert [e["type"] for e in trip_events] == ["trip.approaching", "trip.arrived"]
    approaching, arrived = trip_events
    assert approaching["data"]["eta_s"] <= 300 and approaching["data"]["display_name"] == "Camille"
    assert arrived["data"]["bay"] == "bay 2" and arrived["order_id"] == order_id and arrived["trip_id"] == trip_id

    trip = (await system.geo.get(f"/v1/trips/{trip_id}", headers=auth)).json()
    assert trip["status"] == "arrived" and trip["eta_s"] == 0 and trip["distance_m"] < 20

    # Staff hand the order over: inventory's order.collected completes the trip.
    r = await system.inventory.post(f"/v1/orders/{order_id}/ready", headers=system.admin)
    assert r.status_code == 200, r.text
    r = await system.inventory.post(f"/v1/orders/{order_id}/collected", headers=system.admin)
    assert r.status_code == 200, r.text

    async def completed() -> bool:
        return (await system.geo.get(f"/v1/trips/{trip_id}", headers=auth)).json()["status"] == "completed"

    await eventually(completed)
    trip = (await system.geo.get(f"/v1/trips/{trip_id}", headers=auth)).json()
    assert trip["approaching_at"] and trip["arrived_at"] and trip["ended_at"]  # each kept once set
    # The trip is over and location was never consented: the device is in no zone any more, and
    # pings are refused again.
    context = (await system.geo.get(f"/v1/devices/{device_id}/context", headers=auth)).json()
    assert context["zones"] == [] and context["stores"] == []
    r = await system.geo.post("/v1/pings", json={"pings": [ping(*BAY, datetime.now(UTC))]}, headers=auth)
    assert r.json()["accepted"] == 0 and r.json()["reason"] == "no_location_consent"


async def test_starting_a_trip_twice_gives_the_same_trip(system: System) -> None:
    await pickup_store(system)
    _, auth = await register(system)
    order_id = await order(system, auth)
    body = {"order_id": order_id, "store_id": "rivoli", "mode": "foot"}
    first = await system.geo.post("/v1/trips", json=body, headers=auth)
    again = await system.geo.post("/v1/trips", json=body, headers=auth)
    assert first.json()["trip_id"] == again.json()["trip_id"]


async def test_a_trip_for_another_devices_order_is_404_and_for_another_store_409(system: System) -> None:
    await pickup_store(system)
    _, owner = await register(system)
    _, stranger = await register(system)
    order_id = await order(system, owner)
    r = await system.geo.post("/v1/trips", json={"order_id": order_id, "store_id": "rivoli"}, headers=stranger)
    assert r.status_code == 404 and r.json()["field"] == "order_id"
    await system.geo.put("/v1/stores/opera", json={**STORE, "name": "Opéra"}, headers=system.admin)
    r = await system.geo.post("/v1/trips", json={"order_id": order_id, "store_id": "opera"}, headers=owner)
    assert r.status_code == 409 and r.json()["field"] == "store_id"
    r = await system.geo.post("/v1/trips", json={"order_id": "nope", "store_id": "rivoli"}, headers=owner)
    assert r.status_code == 404


async def test_staff_see_their_stores_active_trips_and_nobody_elses(system: System) -> None:
    from shared.auth import TokenSigner
    from tests.conftest import ADMIN_TOKEN, TOKEN_KEY

    await pickup_store(system)
    _, auth = await register(system)
    order_id = await order(system, auth)
    r = await system.geo.post("/v1/trips", json={"order_id": order_id, "store_id": "rivoli"}, headers=auth)
    trip_id = r.json()["trip_id"]
    signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)
    here = System.bearer(signer.issue("staff", "st_1", store_id="rivoli"))
    elsewhere = System.bearer(signer.issue("staff", "st_2", store_id="opera"))
    listed = (await system.geo.get("/v1/stores/rivoli/trips", params={"status": "active"}, headers=here)).json()
    assert [t["trip_id"] for t in listed["trips"]] == [trip_id] and listed["trips"][0]["display_name"] == "Camille"
    assert (await system.geo.get("/v1/stores/rivoli/trips", headers=elsewhere)).status_code == 403
    assert (await system.geo.get(f"/v1/trips/{trip_id}", headers=here)).status_code == 200
    assert (await system.geo.get(f"/v1/trips/{trip_id}", headers=elsewhere)).status_code == 404


async def test_a_trip_that_never_arrives_expires_once(system: System) -> None:
    await pickup_store(system)
    _, auth = await register(system)
    order_id = await order(system, auth)
    r = await system.geo.post("/v1/trips", json={"order_id": order_id, "store_id": "rivoli"}, headers=auth)
    trip_id = r.json()["trip_id"]
    state = system.running.state("geo")
    assert await expire_trips(state, datetime.now(UTC) + timedelta(minutes=60)) == 0
    assert await expire_trips(state, datetime.now(UTC) + timedelta(minutes=181)) == 1
    assert await expire_trips(state, datetime.now(UTC) + timedelta(minutes=400)) == 0
    assert (await system.geo.get(f"/v1/trips/{trip_id}", headers=auth)).json()["status"] == "expired"


async def test_canceling_the_order_cancels_the_trip(system: System) -> None:
    await pickup_store(system)
    _, auth = await register(system)
    order_id = await order(system, auth)
    r = await system.geo.post("/v1/trips", json={"order_id": order_id, "store_id": "rivoli"}, headers=auth)
    trip_id = r.json()["trip_id"]
    assert (await system.inventory.post(f"/v1/orders/{order_id}/cancel", headers=auth)).status_code == 200

    async def canceled() -> bool:
        return (await system.geo.get(f"/v1/trips/{trip_id}", headers=auth)).json()["status"] == "canceled"

    await eventually(canceled)
