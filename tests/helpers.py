"""Small builders the tests share: a shopper, a store, a track of pings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared.geodesy import destination
from tests.conftest import System

STORE = {"name": "Rivoli", "lat": 48.8600, "lng": 2.3470}


def timezone_at(hour: int) -> str:
    """A time zone where it is `hour` o'clock now, so a test never depends on when it runs."""
    offset = (hour - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs


async def register(system: System, locale: str = "fr-FR", **consents: bool) -> tuple[str, dict[str, str]]:
    """A shopper's device, where it is midday (outside any quiet hours), with the consents given."""
    r = await system.notify.post("/v1/devices", json={"platform": "web", "locale": locale, "timezone": timezone_at(12)})
    assert r.status_code == 201, r.text
    body = r.json()
    auth = System.bearer(body["token"])
    if consents:
        r = await system.notify.put(
            f"/v1/devices/{body['device_id']}/consents",
            json={"policy_version": "2026-01", "purposes": consents},
            headers=auth,
        )
        assert r.status_code == 200, r.text
    return body["device_id"], auth


async def create_store(system: System, store_id: str = "rivoli", radius_m: float = 60, **zone: Any) -> None:
    r = await system.geo.put(f"/v1/stores/{store_id}", json=STORE, headers=system.admin)
    assert r.status_code == 200, r.text
    body = {"kind": "store", "circle": {"lat": STORE["lat"], "lng": STORE["lng"], "radius_m": radius_m}, **zone}
    r = await system.geo.put(f"/v1/stores/{store_id}/zones/main", json=body, headers=system.admin)
    assert r.status_code == 200, r.text


def ping(lat: float, lng: float, at: datetime, accuracy_m: float = 8.0) -> dict[str, Any]:
    return {"lat": lat, "lng": lng, "accuracy_m": accuracy_m, "ts": at.isoformat()}


def walk_in(start: datetime | None = None, step_s: int = 5) -> list[dict[str, Any]]:
    """From 300 m north of the store to its centre, one ping every step_s seconds."""
    start = start or datetime.now(UTC) - timedelta(minutes=2)
    pings = []
    for i, dist in enumerate(range(300, -1, -30)):
        lat, lng = destination(STORE["lat"], STORE["lng"], 0, dist)
        pings.append(ping(lat, lng, start + timedelta(seconds=i * step_s)))
    return pings


async def feed_until(system: System, predicate: Any, **params: Any) -> list[dict[str, Any]]:
    """geo's event feed once it satisfies `predicate`: the feed holds an event back while an earlier
    transaction anywhere may still commit (so a reader never skips one), usually for milliseconds."""
    from tests.conftest import eventually

    async def read() -> list[dict[str, Any]] | None:
        r = await system.geo.get("/v1/events", params=params, headers=system.admin)
        events = r.json()["events"]
        return events if predicate(events) else None

    return await eventually(read)
