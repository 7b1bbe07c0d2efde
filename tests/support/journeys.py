"""Builders the journeys' system tests share, through the public API: a journey saved, a device's
enrollments as it reads them, results; the shop's garden department and a phone walking into it and
out of it with the noise of a real one; and when notify's journeys have handled an event."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from shared.geodesy import destination
from tests.conftest import System, eventually
from tests.support.builders import CENTRE, DAYTIME, STORE, TEXTS, Shopper, create_store, product, timezone_at
from tests.support.gps import Phone, along, ping, still, walk_in

CONSUMER = "notify.journeys"
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

GARDEN = destination(*CENTRE, 90, 35)
"""The garden department, at the east end of the shop (a circle of 20 m inside the shop's 60 m)."""
AISLE = destination(*CENTRE, 270, 40)
"""The far end of the shop: 75 m from the garden's centre, still inside the shop."""
COMPOST, SMALL_COMPOST = "COMPOST-40L", "COMPOST-20L"
GARDEN_TEXTS = {
    "fr": {"title": "Au jardin", "body": "{product} en stock ici"},
    "en": {"title": "Garden", "body": "{product} in stock here"},
}


# ------------------------------------------------------------------------------------ journeys


async def put_journey(system: System, journey_id: str, body: dict[str, Any]) -> httpx.Response:
    return await system.notify.put(f"/v1/journeys/{journey_id}", json=body, headers=system.admin)


async def saved(system: System, journey_id: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await put_journey(system, journey_id, body)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def welcome(wait: str = "PT2S", texts: dict[str, Any] = TEXTS, **fields: Any) -> dict[str, Any]:
    """A device walks into the shop, waits `wait`, and is sent an offer for plain yoghurt."""
    return {
        "name": "Welcome",
        "entry": {"event": "zone.entered", "zone_kind": "store"},
        "steps": [
            {"id": "look", "type": "wait", "for": wait, "next": "offer"},
            {"id": "offer", "type": "message", "purpose": "offers", "sku": "YOG-1", "message": texts},
        ],
        **fields,
    }


def garden_journey(look: str = "PT2S", order_within: str = "PT3S") -> dict[str, Any]:
    """The garden journey of the API guide, with short waits, open every day while the shop is."""
    return {
        "name": "Garden nudge",
        "active": True,
        "entry": {"event": "zone.entered", "store_id": "rivoli", "zone_kind": "department", "zone_id": "garden"},
        "reentry": "never",
        "holdout_percent": 0,
        "goal": {"event": "order.reserved", "within": "PT2H", "sku": COMPOST},
        "exit_on": ["order.collected"],
        "schedule": {"hours": [{"days": EVERY_DAY, "from": "09:00", "to": "19:00"}]},
        "steps": [
            {"id": "look", "type": "wait", "for": look, "next": "still"},
            {
                "id": "still",
                "type": "branch",
                "if": {"in_zone": {"zone_kind": "department"}},
                "then": "order",
                "else": "end",
            },
            {
                "id": "order",
                "type": "wait_for",
                "event": "order.reserved",
                "timeout": order_within,
                "next": "end",
                "timeout_next": "offer",
            },
            {"id": "offer", "type": "message", "purpose": "offers", "sku": COMPOST, "message": GARDEN_TEXTS},
            {"id": "end", "type": "exit"},
        ],
    }


async def results(system: System, journey_id: str, **params: str) -> dict[str, Any]:
    r = await system.notify.get(f"/v1/journeys/{journey_id}/results", params=params, headers=system.admin)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


# --------------------------------------------------------------------------------- enrollments


async def enrollments(system: System, who: Shopper, journey_id: str | None = None) -> list[dict[str, Any]]:
    """The device's enrollments as it reads them (in one journey if given), oldest first."""
    r = await system.notify.get(f"/v1/devices/{who.device_id}/journeys", headers=who.auth)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["enrollments"] if journey_id is None or e["journey_id"] == journey_id]


async def enrolled(system: System, who: Shopper, journey_id: str, step: str | None = None) -> dict[str, Any]:
    """The device's latest enrollment in the journey once it has one (at `step` if given)."""

    async def probe() -> dict[str, Any] | None:
        found = await enrollments(system, who, journey_id)
        return found[-1] if found and (step is None or found[-1]["step"] == step) else None

    return await eventually(probe)


async def exited(system: System, who: Shopper, journey_id: str, timeout: float = 10) -> dict[str, Any]:
    """The device's latest enrollment in the journey once it has left it."""

    async def probe() -> dict[str, Any] | None:
        found = await enrollments(system, who, journey_id)
        return found[-1] if found and found[-1]["exit_reason"] is not None else None

    return await eventually(probe, timeout=timeout)


async def handled(db: asyncpg.Connection, event_id: int) -> None:
    """Wait until notify's journeys have handled the event (its delivery is deleted as it commits)."""

    async def probe() -> bool:
        waiting = await db.fetchval(
            "SELECT count(*) FROM bus.deliveries WHERE consumer = $1 AND event_id = $2", CONSUMER, event_id
        )
        return waiting == 0

    await eventually(probe)


def event_of(answer: dict[str, Any], type_: str, zone_id: str = "main") -> dict[str, Any]:
    """The one event of that type about that zone in an upload's answer."""
    [event] = [e for e in answer["events"] if e["type"] == type_ and e.get("zone_id") == zone_id]
    return event


# ------------------------------------------------------------------------------ the garden


async def garden_store(system: System, db: asyncpg.Connection, *products: tuple[str, str, int]) -> None:
    """The shop where it is midday now, its garden department, and (sku, name, on hand) garden products."""
    await create_store(system)
    tz = timezone_at(DAYTIME)
    r = await system.geo.put("/v1/stores/rivoli", json={**STORE, "timezone": tz}, headers=system.admin)
    assert r.status_code == 200, r.text
    body = {"kind": "department", "name": "Garden", "circle": {"lat": GARDEN[0], "lng": GARDEN[1], "radius_m": 20}}
    r = await system.geo.put("/v1/stores/rivoli/zones/garden", json=body, headers=system.admin)
    assert r.status_code == 200, r.text
    await eventually(lambda: db.fetchval("SELECT true FROM notify.stores WHERE timezone = $1", tz))
    for sku, name, on_hand in products:
        await product(system, sku, name, on_hand, category="garden")


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def phone(seed: int) -> Phone:
    """A phone outdoors in the garden centre: accuracies of 5 to 12 m, no multipath."""
    return Phone(random.Random(seed), accuracy_m=(5.0, 12.0))


def into_garden(device: Phone, start: datetime) -> list[dict[str, Any]]:
    """From 300 m north, through the shop into the garden at a walking pace, then two minutes there
    (about six minutes of fixes from `start`)."""
    return [ping(f) for f in walk_in(device, GARDEN, start, from_m=300, stay_min=2)]


def out_of_garden(device: Phone, start: datetime) -> list[dict[str, Any]]:
    """From the garden to the far end of the shop, then a minute and a half there (about 2.5 minutes)."""
    walk = along(device, [GARDEN, AISLE], 1.3, start)
    return [ping(f) for f in walk + still(device, AISLE, walk[-1].ts + timedelta(seconds=5), 1.5)]
