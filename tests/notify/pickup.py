"""Builders for the contactless pickup through the running services: a store with its pickup bay and
approach zone, staff, a shopper's order, a noisy drive in, and a staff tablet's live alert stream."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.geo.geometry import destination
from shared.sse import Sse, sse_messages
from tests.conftest import System, eventually
from tests.helpers import STORE, ping
from tests.notify.shop import Shopper, shopper
from tests.push_service import LocalPushService

CENTRE = (STORE["lat"], STORE["lng"])
BAY = destination(*CENTRE, 90, 40)  # the pickup bay, 40 m east of the shop
SKU = "BOX-1"


async def pickup_store(system: System, store_id: str = "rivoli", on_hand: int = 5) -> None:
    """A shop with a pickup zone named "bay 2", an approach zone around it, and vegetable boxes."""
    admin = system.admin
    r = await system.geo.put(f"/v1/stores/{store_id}", json=STORE, headers=admin)
    assert r.status_code == 200, r.text
    zones = {
        "approach": {"kind": "approach", "circle": {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 800}},
        "main": {"kind": "store", "circle": {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 30}},
        "bay-2": {"kind": "pickup", "name": "bay 2", "circle": {"lat": BAY[0], "lng": BAY[1], "radius_m": 15}},
    }
    for zone_id, body in zones.items():
        r = await system.geo.put(f"/v1/stores/{store_id}/zones/{zone_id}", json=body, headers=admin)
        assert r.status_code == 200, r.text
    r = await system.inventory.put(f"/v1/products/{SKU}", json={"name": "Veg box", "category": "fresh"}, headers=admin)
    assert r.status_code == 200, r.text
    r = await system.inventory.put(f"/v1/stores/{store_id}/stock/{SKU}", json={"on_hand": on_hand}, headers=admin)
    assert r.status_code == 200, r.text


@dataclass
class StaffMember:
    staff_id: str
    store_id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return System.bearer(self.token)


async def staff_member(system: System, store_id: str = "rivoli", name: str = "Alex", locale: str = "en") -> StaffMember:
    r = await system.notify.post(
        f"/v1/stores/{store_id}/staff", json={"name": name, "locale": locale}, headers=system.admin
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return StaffMember(body["staff_id"], store_id, body["token"])


async def customer(system: System, push: LocalPushService | None, **consents: bool) -> Shopper:
    """A shopper's phone, by default consenting to pickup updates only (location is not needed for a trip)."""
    purposes = {"location": False, "offers": False, "pickup_updates": True, **consents}
    return await shopper(system, push, locale="en-GB", consents=purposes)


async def place_order(system: System, who: Shopper, name: str = "Camille", qty: int = 1) -> str:
    r = await system.inventory.post(
        "/v1/orders",
        json={"store_id": "rivoli", "lines": [{"sku": SKU, "qty": qty}], "display_name": name},
        headers={**who.auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    return r.json()["order_id"]


async def start_trip(system: System, who: Shopper, order_id: str) -> str:
    r = await system.geo.post(
        "/v1/trips", json={"order_id": order_id, "store_id": "rivoli", "mode": "car"}, headers=who.auth
    )
    assert r.status_code == 201, r.text
    return r.json()["trip_id"]


def noisy_drive(
    start: datetime, seed: int = 6, from_m: float = 2500, speed_mps: float = 11, step_s: int = 4
) -> list[dict]:
    """A car heading west into the bay, one fix every step_s seconds, GPS noise of a few metres and an
    accuracy that varies, then parked in the bay."""
    rng = random.Random(seed)
    fixes, at, left = [], start, from_m
    while left > 0:
        lat, lng = destination(*BAY, 90, left)
        lat, lng = destination(lat, lng, rng.uniform(0, 360), rng.uniform(0, 6))
        fixes.append({**ping(lat, lng, at, accuracy_m=rng.uniform(5, 15)), "speed_mps": speed_mps})
        at, left = at + timedelta(seconds=step_s), left - speed_mps * step_s
    for i in range(4):
        lat, lng = destination(*BAY, rng.uniform(0, 360), rng.uniform(0, 3))
        fixes.append(ping(lat, lng, at + timedelta(seconds=i * step_s), accuracy_m=6))
    return fixes


async def upload(system: System, who: Shopper, fixes: list[dict]) -> dict[str, Any]:
    r = await system.geo.post("/v1/pings", json={"pings": fixes}, headers=who.auth)
    assert r.status_code == 200, r.text
    return r.json()


@dataclass
class StaffStream:
    """A staff tablet's open alert stream, read in the background."""

    client: httpx.AsyncClient
    store_id: str
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    messages: list[Sse] = field(default_factory=list)
    status: int | None = None
    ended: bool = False
    _opened: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task | None = None

    async def __aenter__(self) -> StaffStream:
        self._task = asyncio.create_task(self._read())
        await asyncio.wait_for(self._opened.wait(), 10)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _read(self) -> None:
        url = f"/v1/stores/{self.store_id}/alerts/stream"
        try:
            async with self.client.stream("GET", url, headers=self.headers, params=self.params, timeout=None) as r:
                self.status = r.status_code
                self._opened.set()
                if r.status_code == 200:
                    async for message in sse_messages(r.aiter_lines()):
                        self.messages.append(message)
                else:
                    await r.aread()
        finally:
            self.ended = True
            self._opened.set()

    def alerts(self, event: str = "alert") -> list[dict[str, Any]]:
        return [m.json() for m in self.messages if m.event == event]

    async def wait_for(self, count: int, event: str = "alert", timeout: float = 10) -> list[dict[str, Any]]:
        async def enough() -> list[dict[str, Any]] | None:
            found = self.alerts(event)
            return found if len(found) >= count else None

        return await eventually(enough, timeout=timeout)


async def pull_in(system: System, who: Shopper, order_id: str) -> str:
    """Start the trip and stop in the bay at once: staff get approaching then arrived."""
    trip_id = await start_trip(system, who, order_id)
    now = datetime.now(UTC)
    await upload(system, who, [ping(*BAY, now - timedelta(seconds=8), accuracy_m=6), ping(*BAY, now, accuracy_m=6)])
    return trip_id
