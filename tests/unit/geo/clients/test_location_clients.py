"""Real clients' own payloads, as their documentation shows them, become our pings and sightings."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec
import pytest

from services.geo.clients import background_geolocation as bg
from services.geo.clients import owntracks, waypoints
from services.geo.clients.decoding import decode
from services.geo.zones.geometry import circle, polygon
from services.geo.zones.zone_index import Zone
from shared.errors import BadRequest, Invalid
from shared.geodesy import destination

# An OwnTracks location message as the Android app sends it in HTTP mode.
LOCATION = {
    "_type": "location",
    "acc": 12,
    "alt": 35,
    "batt": 81,
    "bs": 1,
    "conn": "m",
    "created_at": 1764645000,
    "lat": 48.8601,
    "lon": 2.3471,
    "m": 1,
    "t": "u",
    "tid": "ph",
    "tst": 1764644990,
    "vac": 3,
    "vel": 18,
    "cog": 270,
    "topic": "owntracks/user/phone",
}

TRANSITION = {
    "_type": "transition",
    "wtst": 1764000000,
    "lat": 48.86,
    "lon": 2.347,
    "tst": 1764644990,
    "acc": 9.5,
    "tid": "ph",
    "event": "enter",
    "desc": "Rivoli",
    "t": "c",
}

BEACON = {
    "_type": "beacon",
    "desc": "dairy",
    "uuid": "F7826DA6-4FA2-4E98-8024-BC5B71E0893E",
    "major": 1,
    "minor": 2,
    "tst": 1764644990,
    "acc": 1,
    "rssi": -63,
    "prox": 2,
}

# The HTTP sync body of the background-geolocation SDKs (batchSync off: one location).
SDK_LOCATION = {
    "timestamp": "2026-12-02T03:09:50.000Z",
    "odometer": 1204.5,
    "is_moving": True,
    "event": "motionchange",
    "uuid": "a6d4c3b2-1f0e-4d5c-8b7a-69584736251a",
    "coords": {
        "latitude": 48.8601,
        "longitude": 2.3471,
        "accuracy": 11.2,
        "speed": 1.4,
        "heading": 182.5,
        "altitude": 35.1,
        "altitude_accuracy": 3.2,
    },
    "activity": {"type": "walking", "confidence": 100},
    "battery": {"is_charging": False, "level": 0.81},
    "extras": {},
}


def encoded(message: dict) -> bytes:
    return json.dumps(message).encode()


def sdk(location: dict | list) -> bg.SdkSync:
    return msgspec.json.decode(
        json.dumps({"location": location, "device_id": "x"}).encode(), type=bg.SdkSync, strict=True
    )


def test_an_owntracks_location_is_a_ping_at_its_epoch_second_in_utc_and_its_speed_in_metres_per_second() -> None:
    ping = owntracks.ping_of(owntracks.parse(encoded(LOCATION)))
    assert ping.ts == datetime.fromtimestamp(1764644990, UTC) and ping.ts.tzinfo is UTC
    assert (ping.lat, ping.lng, ping.accuracy_m) == (48.8601, 2.3471, 12)
    assert ping.speed_mps == pytest.approx(5.0) and ping.heading == 270


def test_an_owntracks_unknown_speed_or_course_is_no_speed() -> None:
    ping = owntracks.ping_of(owntracks.parse(encoded({**LOCATION, "vel": -1, "cog": -1})))
    assert ping.speed_mps is None and ping.heading is None
    bare = {k: v for k, v in LOCATION.items() if k not in ("vel", "cog")}
    assert owntracks.ping_of(owntracks.parse(encoded(bare))).speed_mps is None


def test_an_owntracks_transition_is_a_fix_where_it_happened() -> None:
    message = owntracks.parse(encoded(TRANSITION))
    assert isinstance(message, owntracks.Transition)
    ping = owntracks.ping_of(message)
    assert (ping.lat, ping.lng, ping.accuracy_m, ping.ts) == (
        48.86,
        2.347,
        9.5,
        datetime.fromtimestamp(1764644990, UTC),
    )


def test_an_owntracks_beacon_is_an_ibeacon_sighting() -> None:
    sighting = owntracks.sighting_of(owntracks.parse(encoded(BEACON)))
    assert sighting.ibeacon is not None and sighting.eddystone is None
    assert (sighting.ibeacon.uuid, sighting.ibeacon.major, sighting.ibeacon.minor) == (BEACON["uuid"], 1, 2)
    assert sighting.rssi == -63 and sighting.ts == datetime.fromtimestamp(1764644990, UTC)


@pytest.mark.parametrize(
    "message",
    [
        {"_type": "card", "name": "Camille", "face": "iVBORw0KGgo=", "tid": "ph"},
        {"_type": "lwt", "tst": 1764644990},
        {"_type": "cmd", "action": "reportLocation"},
        {"_type": "steps", "steps": 1200, "from": 1764600000, "to": 1764644990},
        {"_type": "status", "android": {"wifistate": 1}},
        {"_type": "waypoints", "waypoints": []},
        {"_type": "encrypted", "data": "c2VjcmV0"},
        {"lat": 48.86, "lon": 2.347},
    ],
)
def test_other_owntracks_messages_mean_nothing(message: dict) -> None:
    assert owntracks.parse(encoded(message)) is None


def test_an_empty_body_means_nothing() -> None:
    assert owntracks.parse(b"") is None and owntracks.parse(b"  \n") is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"acc": None}, "acc"),
        ({"lat": "48.86"}, "lat"),
        ({"lon": 200}, "lon"),
        ({"tst": "2026-12-02T03:09:50Z"}, "tst"),
        ({"vel": "fast"}, "vel"),
    ],
)
def test_a_malformed_owntracks_location_is_422_naming_the_field(change: dict, field: str) -> None:
    message = {k: v for k, v in {**LOCATION, **change}.items() if v is not None}
    with pytest.raises(Invalid) as refused:
        owntracks.parse(encoded(message))
    assert refused.value.field == field


def test_a_malformed_owntracks_beacon_is_422_naming_the_field() -> None:
    with pytest.raises(Invalid) as refused:
        owntracks.parse(encoded({**BEACON, "uuid": "not-a-uuid"}))
    assert refused.value.field == "uuid"


def test_owntracks_json_that_does_not_parse_is_400() -> None:
    with pytest.raises(BadRequest):
        owntracks.parse(b'{"_type": "location", "lat": ')


def test_an_sdk_location_is_a_ping() -> None:
    [location] = bg.locations_of(sdk(SDK_LOCATION))
    ping = bg.ping_of(location)
    assert ping.ts == datetime(2026, 12, 2, 3, 9, 50, tzinfo=UTC)
    assert (ping.lat, ping.lng, ping.accuracy_m, ping.speed_mps, ping.heading) == (48.8601, 2.3471, 11.2, 1.4, 182.5)


def test_an_sdk_batch_is_every_location_in_order() -> None:
    second = {**SDK_LOCATION, "timestamp": "2026-12-02T03:10:10.000Z"}
    pings = [bg.ping_of(loc) for loc in bg.locations_of(sdk([SDK_LOCATION, second]))]
    assert [p.ts.second for p in pings] == [50, 10]


def test_an_sdk_negative_speed_or_heading_is_unknown() -> None:
    moving = {**SDK_LOCATION, "coords": {**SDK_LOCATION["coords"], "speed": -1, "heading": -1}}
    ping = bg.ping_of(bg.locations_of(sdk(moving))[0])
    assert ping.speed_mps is None and ping.heading is None


@pytest.mark.parametrize(
    "still",
    [{"is_moving": False}, {"is_moving": True, "activity": {"type": "still", "confidence": 90}}],
)
def test_a_phone_that_says_it_is_still_is_at_speed_zero_when_it_gives_no_speed(still: dict) -> None:
    location = {**SDK_LOCATION, **still, "coords": {**SDK_LOCATION["coords"], "speed": -1}}
    assert bg.ping_of(bg.locations_of(sdk(location))[0]).speed_mps == 0.0
    measured = {**SDK_LOCATION, **still}
    assert bg.ping_of(bg.locations_of(sdk(measured))[0]).speed_mps == 1.4  # a measured speed wins


@pytest.mark.parametrize(
    ("coords", "field"),
    [({"latitude": None}, "location.coords.latitude"), ({"accuracy": "8"}, "location.coords.accuracy")],
)
def test_a_malformed_sdk_location_names_the_field(coords: dict, field: str) -> None:
    broken = {k: v for k, v in {**SDK_LOCATION["coords"], **coords}.items() if v is not None}
    with pytest.raises(Invalid) as refused:
        decode(encoded({"location": {**SDK_LOCATION, "coords": broken}}), bg.SdkSync)
    assert refused.value.field == field


CENTRE = (48.86, 2.347)


def zone(zone_id: str, kind: str = "store", shape=None) -> Zone:
    return Zone("rivoli", zone_id, kind, shape or circle(*CENTRE, 60))


def test_a_circle_is_its_own_waypoint_and_a_polygon_its_enclosing_circle() -> None:
    corners = [destination(*CENTRE, bearing, 50) for bearing in (45, 135, 225, 315)]
    ring = [[lng, lat] for lat, lng in corners]
    square = polygon({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    assert waypoints.enclosing_circle(zone("main")) == (*CENTRE, 60)
    lat, lng, radius = waypoints.enclosing_circle(zone("square", shape=square))
    assert lat == pytest.approx(CENTRE[0], abs=1e-6) and lng == pytest.approx(CENTRE[1], abs=1e-6)
    assert radius == pytest.approx(50, abs=0.5)


def test_waypoints_are_the_store_and_pickup_zones_within_5_km() -> None:
    far = circle(*destination(*CENTRE, 0, 6_000), 60)
    zones = [
        zone("main"),
        zone("bay", "pickup"),
        zone("dairy", "department"),
        zone("road", "approach"),
        zone("far", shape=far),
    ]
    near = waypoints.nearby(zones, *destination(*CENTRE, 90, 1_000))
    assert sorted(w.desc for w in near) == ["rivoli bay", "rivoli main"]
    assert {w.rad for w in near} == {60}


def test_the_same_zones_give_the_same_set_and_a_moved_zone_another() -> None:
    here = waypoints.nearby([zone("main"), zone("bay", "pickup")], *CENTRE)
    again = waypoints.nearby([zone("bay", "pickup"), zone("main")], *CENTRE)
    moved = waypoints.nearby([zone("main"), zone("bay", "pickup", circle(*destination(*CENTRE, 90, 40), 20))], *CENTRE)
    assert waypoints.digest(here) == waypoints.digest(again) != waypoints.digest(moved)
    assert [w.tst for w in here] == [w.tst for w in moved]  # a zone keeps its region id in the app


def test_the_command_is_owntracks_set_waypoints() -> None:
    near = waypoints.nearby([zone("main")], *CENTRE)
    sent = json.loads(msgspec.json.encode(waypoints.command(near)))
    assert sent["_type"] == "cmd" and sent["action"] == "setWaypoints"
    assert sent["waypoints"]["_type"] == "waypoints"
    [w] = sent["waypoints"]["waypoints"]
    assert w["_type"] == "waypoint" and (w["lat"], w["lon"], w["rad"]) == (*CENTRE, 60) and isinstance(w["tst"], int)
