"""Contactless pickup: a shopper drives in, staff see approaching then arrived, once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.geo.devices.trips.jobs import expire_trips
from shared.geodesy import destination
from tests.conftest import System, eventually
from tests.support.builders import BAY, STORE, Shopper, pickup_store, ping, place_order, shopper, start_trip


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


async def on_a_trip(system: System) -> tuple[Shopper, str, str]:
    """A pickup store, and a shopper who ordered there and set off: (the shopper, order id, trip id)."""
    await pickup_store(system)
    who = await shopper(system)
    order_id = await place_order(system, who)
    return who, order_id, await start_trip(system, who, order_id)


async def test_a_drive_in_gives_approaching_then_arrived_once_each_even_without_location_consent(
    system: System,
) -> None:
    await pickup_store(system)
    who = await shopper(system, location=False, pickup_updates=True)
    device_id, auth = who.device_id, who.auth
    order_id = await place_order(system, who)
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
    who = await shopper(system)
    auth = who.auth
    order_id = await place_order(system, who)
    body = {"order_id": order_id, "store_id": "rivoli", "mode": "foot"}
    first = await system.geo.post("/v1/trips", json=body, headers=auth)
    again = await system.geo.post("/v1/trips", json=body, headers=auth)
    assert first.json()["trip_id"] == again.json()["trip_id"]


async def test_a_start_cancel_loop_is_stopped_with_retry_after_and_stores_nothing_more(system: System) -> None:
    who, order_id, trip_id = await on_a_trip(system)
    for _ in range(9):  # each start is a row kept 90 days and an alert for the staff
        assert (await system.geo.post(f"/v1/trips/{trip_id}/cancel", headers=who.auth)).status_code == 200
        trip_id = await start_trip(system, who, order_id)
    assert await start_trip(system, who, order_id) == trip_id  # a retry of the trip under way is not counted
    assert (await system.geo.post(f"/v1/trips/{trip_id}/cancel", headers=who.auth)).status_code == 200
    trip = {"order_id": order_id, "store_id": "rivoli", "mode": "car"}
    r = await system.geo.post("/v1/trips", json=trip, headers=who.auth)
    assert r.status_code == 429 and "at most 10 trips an hour" in r.json()["detail"], r.text
    assert 0 < int(r.headers["retry-after"]) <= 3600
    data = (await system.geo.get(f"/v1/devices/{who.device_id}/data", headers=who.auth)).json()
    assert len(data["trips"]) == 10 and all(t["status"] == "canceled" for t in data["trips"]), data["trips"]


async def test_a_trip_for_another_devices_order_is_404_and_for_another_store_409(system: System) -> None:
    await pickup_store(system)
    who = await shopper(system)
    owner = who.auth
    stranger = (await shopper(system)).auth
    order_id = await place_order(system, who)
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

    _, _, trip_id = await on_a_trip(system)
    signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)
    here = System.bearer(signer.issue("staff", "st_1", store_id="rivoli"))
    elsewhere = System.bearer(signer.issue("staff", "st_2", store_id="opera"))
    listed = (await system.geo.get("/v1/stores/rivoli/trips", params={"status": "active"}, headers=here)).json()
    assert [t["trip_id"] for t in listed["trips"]] == [trip_id] and listed["trips"][0]["display_name"] == "Camille"
    assert (await system.geo.get("/v1/stores/rivoli/trips", headers=elsewhere)).status_code == 403
    assert (await system.geo.get(f"/v1/trips/{trip_id}", headers=here)).status_code == 200
    assert (await system.geo.get(f"/v1/trips/{trip_id}", headers=elsewhere)).status_code == 404


async def test_a_trip_that_never_arrives_expires_once(system: System) -> None:
    who, _, trip_id = await on_a_trip(system)
    state = system.running.state("geo")
    assert await expire_trips(state, datetime.now(UTC) + timedelta(minutes=60)) == 0
    assert await expire_trips(state, datetime.now(UTC) + timedelta(minutes=181)) == 1
    assert await expire_trips(state, datetime.now(UTC) + timedelta(minutes=400)) == 0
    assert (await system.geo.get(f"/v1/trips/{trip_id}", headers=who.auth)).json()["status"] == "expired"


async def test_canceling_the_order_cancels_the_trip(system: System) -> None:
    who, order_id, trip_id = await on_a_trip(system)
    assert (await system.inventory.post(f"/v1/orders/{order_id}/cancel", headers=who.auth)).status_code == 200

    async def canceled() -> bool:
        return (await system.geo.get(f"/v1/trips/{trip_id}", headers=who.auth)).json()["status"] == "canceled"

    await eventually(canceled)


async def test_a_stores_past_trips_come_newest_first_a_page_at_a_time(system: System) -> None:
    from tests.support.builders import customer, staff_member

    await pickup_store(system)
    ended = []
    for _ in range(5):
        who = await customer(system, None)
        trip_id = await start_trip(system, who, await place_order(system, who))
        assert (await system.geo.post(f"/v1/trips/{trip_id}/cancel", headers=who.auth)).status_code == 200
        ended.append(trip_id)
    alex = await staff_member(system)
    seen, before = [], None
    while True:
        params = {"status": "all", "limit": 2, **({"before": before} if before else {})}
        r = await system.geo.get("/v1/stores/rivoli/trips", params=params, headers=alex.auth)
        assert r.status_code == 200, r.text
        assert len(r.json()["trips"]) <= 2
        seen += [t["trip_id"] for t in r.json()["trips"]]
        if (before := r.json().get("next_before")) is None:
            break
    assert seen == ended[::-1]  # newest first, each once
    r = await system.geo.get("/v1/stores/rivoli/trips", params={"status": "all", "limit": 201}, headers=alex.auth)
    assert r.status_code in (400, 422)
