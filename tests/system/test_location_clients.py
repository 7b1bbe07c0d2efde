"""Real location clients, posting as they do: the OwnTracks app in HTTP mode and the background-geolocation
SDKs' HTTP sync, through the same presence, consent and trip rules as /v1/pings."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.geodesy import destination
from tests.conftest import System
from tests.support.builders import STORE, Shopper, create_store, ping, shopper, walk_in

OWNTRACKS = "/v1/clients/owntracks"
SDK = "/v1/clients/background-geolocation"


def token_of(who: Shopper) -> str:
    return who.auth["Authorization"].removeprefix("Bearer ")


def basic(user: str, password: str) -> dict[str, str]:
    """What the app sends in HTTP mode: Basic auth, and its user and device names."""
    secret = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {secret}", "X-Limit-U": user, "X-Limit-D": "phone"}


def app_of(who: Shopper) -> dict[str, str]:
    return basic(who.device_id, token_of(who))


def location(fix: dict[str, Any]) -> dict[str, Any]:
    """One of our fixes as the OwnTracks Android app reports it (fields we ignore included)."""
    tst = int(datetime.fromisoformat(fix["ts"]).timestamp())
    return {
        "_type": "location",
        "lat": fix["lat"],
        "lon": fix["lng"],
        "acc": round(fix["accuracy_m"]),
        "alt": 35,
        "batt": 77,
        "bs": 1,
        "conn": "m",
        "created_at": tst + 1,
        "m": 1,
        "t": "u",
        "tid": "ph",
        "tst": tst,
        "vac": 4,
        "vel": 5,
        "topic": "owntracks/camille/phone",
    }


def sdk_location(fix: dict[str, Any], still: bool = False) -> dict[str, Any]:
    """One of our fixes as the background-geolocation SDKs sync it."""
    return {
        "timestamp": datetime.fromisoformat(fix["ts"]).astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "uuid": "6c1b5d1e-8f3a-4b7e-9d2c-0a1b2c3d4e5f",
        "is_moving": not still,
        "odometer": 812.4,
        "event": "motionchange" if still else None,
        "coords": {
            "latitude": fix["lat"],
            "longitude": fix["lng"],
            "accuracy": fix["accuracy_m"],
            "speed": -1,
            "heading": -1,
            "altitude": 35.2,
        },
        "activity": {"type": "still" if still else "on_foot", "confidence": 100},
        "battery": {"level": 0.77, "is_charging": False},
        "extras": {},
    }


def set_waypoints(answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    [cmd] = [m for m in answer if m.get("_type") == "cmd" and m["action"] == "setWaypoints"]
    return cmd["waypoints"]["waypoints"]


async def zones_of(system: System, who: Shopper) -> list[str]:
    r = await system.geo.get(f"/v1/devices/{who.device_id}/context", headers=who.auth)
    assert r.status_code == 200, r.text
    return [z["zone_id"] for z in r.json()["zones"]]


async def test_the_owntracks_app_walks_into_the_store_and_is_sent_its_zones_once(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    track = walk_in()

    first = await system.geo.post(OWNTRACKS, json=location(track[0]), headers=app_of(who))
    assert first.status_code == 200, first.text
    [main] = set_waypoints(first.json())
    assert main["_type"] == "waypoint" and main["rad"] == 60
    assert (main["lat"], main["lon"]) == (STORE["lat"], STORE["lng"]) and isinstance(main["tst"], int)

    again = await system.geo.post(OWNTRACKS, json=location(track[0]), headers=app_of(who))
    assert again.status_code == 200 and again.json() == []
    for fix in track[1:]:
        r = await system.geo.post(OWNTRACKS, json=location(fix), headers=app_of(who))
        assert r.status_code == 200 and r.json() == [], r.text
    assert await zones_of(system, who) == ["main"]

    bay = destination(STORE["lat"], STORE["lng"], 90, 40)
    zone = {"kind": "pickup", "name": "Pickup bay", "circle": {"lat": bay[0], "lng": bay[1], "radius_m": 15}}
    assert (await system.geo.put("/v1/stores/rivoli/zones/bay", json=zone, headers=system.admin)).status_code == 200
    later = {**track[-1], "ts": (datetime.now(UTC) - timedelta(seconds=30)).isoformat()}
    r = await system.geo.post(OWNTRACKS, json=location(later), headers=app_of(who))
    assert sorted(w["desc"] for w in set_waypoints(r.json())) == ["Pickup bay", "rivoli main"]


async def test_owntracks_transitions_empty_posts_and_other_messages_are_answered_200(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    now = int(datetime.now(UTC).timestamp()) - 10
    transition = {
        "_type": "transition",
        "wtst": now - 86_400,
        "lat": STORE["lat"],
        "lon": STORE["lng"],
        "tst": now,
        "acc": 10,
        "tid": "ph",
        "event": "enter",
        "desc": "rivoli main",
        "t": "c",
    }
    r = await system.geo.post(OWNTRACKS, json=transition, headers=app_of(who))
    assert r.status_code == 200, r.text
    assert await zones_of(system, who) == ["main"]  # a transition is a real position

    empty = await system.geo.post(OWNTRACKS, content=b"", headers={**app_of(who), "content-type": "application/json"})
    assert empty.status_code == 200 and empty.json() == []
    card = {"_type": "card", "name": "Camille", "face": "iVBORw0KGgoAAAANSUhEUg==", "tid": "ph"}
    r = await system.geo.post(OWNTRACKS, json=card, headers=app_of(who))
    assert r.status_code == 200 and r.json() == []


async def test_owntracks_without_its_own_credentials_is_asked_for_them(system: System) -> None:
    who = await shopper(system, location=True)
    other = await shopper(system, location=True)
    message = location(walk_in()[-1])
    for headers in (
        basic(who.device_id, "not-a-token"),
        basic(who.device_id, token_of(other)),  # another device's token with this device's id
        basic(other.device_id, token_of(who)),
        who.auth,  # a bearer token is not how the app signs in
        {},
    ):
        r = await system.geo.post(OWNTRACKS, json=message, headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["WWW-Authenticate"] == 'Basic realm="accueil"'
    assert await zones_of(system, who) == []


async def test_owntracks_without_location_consent_moves_nothing_and_says_nothing(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=False)
    r = await system.geo.post(OWNTRACKS, json=location(walk_in()[-1]), headers=app_of(who))
    assert r.status_code == 200 and r.json() == []
    assert await zones_of(system, who) == []


async def test_a_malformed_owntracks_location_is_422_naming_the_field(system: System) -> None:
    who = await shopper(system, location=True)
    message = {k: v for k, v in location(walk_in()[-1]).items() if k != "acc"}
    r = await system.geo.post(OWNTRACKS, json=message, headers=app_of(who))
    assert r.status_code == 422 and r.json()["field"] == "acc", r.text


def walk_in_and_out() -> list[dict[str, Any]]:
    """In at a walking pace, then 300 m out at 2 m/s: an entry and an exit."""
    start = datetime.now(UTC) - timedelta(minutes=10)
    inward = walk_in(start)
    out_from = datetime.fromisoformat(inward[-1]["ts"]) + timedelta(seconds=60)
    outward = [
        ping(*destination(STORE["lat"], STORE["lng"], 0, d), out_from + timedelta(seconds=i * 10))
        for i, d in enumerate(range(0, 301, 20))
    ]
    return inward + outward


def events(answer: dict[str, Any]) -> list[tuple[str, str, str, datetime]]:
    return [(e["type"], e["store_id"], e["zone_id"], datetime.fromisoformat(e["ts"])) for e in answer["events"]]


async def test_a_batched_sdk_sync_gives_the_same_events_as_the_same_fixes_as_pings(system: System) -> None:
    await create_store(system)
    sdk_phone = await shopper(system, location=True)
    our_app = await shopper(system, location=True)
    fixes = walk_in_and_out()

    synced = await system.geo.post(SDK, json={"location": [sdk_location(f) for f in fixes]}, headers=sdk_phone.auth)
    pinged = await system.geo.post("/v1/pings", json={"pings": fixes}, headers=our_app.auth)
    assert synced.status_code == 200 and pinged.status_code == 200, synced.text
    assert synced.json()["accepted"] == pinged.json()["accepted"] == len(fixes)
    assert [e[0] for e in events(synced.json())] == ["zone.entered", "zone.exited"]
    assert events(synced.json()) == events(pinged.json())


async def test_a_single_sdk_location_of_a_still_phone_enters_the_store(system: System) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    here = ping(STORE["lat"], STORE["lng"], datetime.now(UTC) - timedelta(seconds=5))
    body = {"location": sdk_location(here, still=True), "device_id": "ignored"}
    r = await system.geo.post(SDK, json=body, headers=who.auth)
    assert r.status_code == 200, r.text
    assert [e[0] for e in events(r.json())] == ["zone.entered"]
    assert await zones_of(system, who) == ["main"]


async def test_an_sdk_batch_over_500_is_413_naming_location(system: System) -> None:
    who = await shopper(system, location=True)
    here = sdk_location(ping(STORE["lat"], STORE["lng"], datetime.now(UTC)))
    r = await system.geo.post(SDK, json={"location": [here] * 501}, headers=who.auth)
    assert r.status_code == 413 and r.json()["field"] == "location", r.text
    broken = {**here, "coords": {k: v for k, v in here["coords"].items() if k != "latitude"}}
    r = await system.geo.post(SDK, json={"location": broken}, headers=who.auth)
    assert r.status_code == 422 and r.json()["field"] == "location.coords.latitude", r.text
