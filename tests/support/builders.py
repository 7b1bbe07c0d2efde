"""Builders the service and system tests share, all through the running services' public HTTP API:
a store and its stock, shoppers (their language, time zone, consents and push subscription) walking in
and out or driving in for a pickup, campaigns, staff, and a staff tablet's live alert stream."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from shared.db import connect
from shared.geodesy import destination
from shared.sse import Sse, sse_messages
from tests.conftest import System, eventually
from tests.support.push_service import LocalPushService, Subscriber, subscribe

STORE = {"name": "Rivoli", "lat": 48.8600, "lng": 2.3470}
CENTRE = (STORE["lat"], STORE["lng"])
BAY = destination(*CENTRE, 90, 40)  # the pickup bay, 40 m east of the shop
SKU = "BOX-1"  # what pickup customers order

EVERY_PURPOSE = {"location": True, "offers": True, "pickup_updates": True, "product_tips": True}
DAYTIME = 12
NIGHT = 2

TEXTS = {
    "fr": {"title": "Bienvenue", "body": "{product} à -20 % aujourd'hui"},
    "en": {"title": "Welcome", "body": "{product} at 20% off today"},
}


# ------------------------------------------------------------------------------------- stores


async def create_store(system: System, store_id: str = "rivoli", radius_m: float = 60, **zone: Any) -> None:
    """The store with one zone, "main", of the kind "store" unless `zone` says otherwise."""
    r = await system.geo.put(f"/v1/stores/{store_id}", json=STORE, headers=system.admin)
    assert r.status_code == 200, r.text
    body = {"kind": "store", "circle": {"lat": STORE["lat"], "lng": STORE["lng"], "radius_m": radius_m}, **zone}
    r = await system.geo.put(f"/v1/stores/{store_id}/zones/main", json=body, headers=system.admin)
    assert r.status_code == 200, r.text


async def product(
    system: System, sku: str, name: str, on_hand: int, category: str = "dairy", store_id: str = "rivoli", **extra: Any
) -> None:
    """A product in the catalogue, with `on_hand` of it in the store, once notify's stock replica (fed
    by inventory's events) has it too: a shopper who walks in next is decided on it."""
    r = await system.inventory.put(
        f"/v1/products/{sku}", json={"name": name, "category": category, **extra}, headers=system.admin
    )
    assert r.status_code == 200, r.text
    r = await system.inventory.put(
        f"/v1/stores/{store_id}/stock/{sku}", json={"on_hand": on_hand}, headers=system.admin
    )
    assert r.status_code == 200, r.text
    await notify_sees(system, store_id, sku, on_hand)


async def replica_of(system: System, store_id: str, sku: str) -> dict[str, Any] | None:
    """The product and its stock at the store as notify's replica has them (None: unknown product)."""
    conn = await connect(system.settings.database_url)
    try:
        row = await conn.fetchrow(
            """
            SELECT p.sku, p.name, p.category, s.available, s.on_hand
            FROM notify.products p LEFT JOIN notify.stock s ON s.store_id = $1 AND s.sku = p.sku
            WHERE p.sku = $2
            """,
            store_id,
            sku,
        )
        return dict(row) if row else None
    finally:
        await conn.close()


async def notify_sees(system: System, store_id: str, sku: str, available: int) -> dict[str, Any]:
    """Wait until notify's replica has the product with this availability at the store."""

    async def probe() -> dict[str, Any] | None:
        row = await replica_of(system, store_id, sku)
        return row if row is not None and row["available"] == available else None

    return await eventually(probe)


async def shop(system: System, *products: tuple[str, str, int], names: dict[str, dict[str, str]] | None = None) -> None:
    """The store `rivoli` with its zone, and (sku, name, on hand) products in one category."""
    await create_store(system)
    for sku, name, on_hand in products:
        await product(system, sku, name, on_hand, names=(names or {}).get(sku, {}))


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
    await product(system, SKU, "Veg box", on_hand, category="fresh", store_id=store_id)


async def campaign(system: System, campaign_id: str, sku: str, trigger: str = "zone.entered", **message: Any) -> None:
    body = {"trigger": {"type": trigger, "zone_kind": "store"}, "sku": sku, "message": message or TEXTS}
    r = await system.notify.put(f"/v1/campaigns/{campaign_id}", json=body, headers=system.admin)
    assert r.status_code == 200, r.text


# ----------------------------------------------------------------------------------- shoppers


@dataclass
class Shopper:
    device_id: str
    auth: dict[str, str]
    sub: Subscriber | None = None


def timezone_at(hour: int) -> str:
    """A time zone where it is `hour` o'clock now, so a test never depends on when it runs."""
    offset = (hour - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 14 else offset
    return "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs


async def shopper(
    system: System,
    push: LocalPushService | None = None,
    *,
    locale: str = "fr-FR",
    hour: int = DAYTIME,
    platform: str = "web",
    **consents: bool,
) -> Shopper:
    """A registered device where it is `hour` o'clock (by default midday, outside any quiet hours),
    with the consents given (none given: the device has not answered yet), subscribed to `push` if given."""
    r = await system.notify.post(
        "/v1/devices", json={"platform": platform, "locale": locale, "timezone": timezone_at(hour)}
    )
    assert r.status_code == 201, r.text
    device_id, auth = r.json()["device_id"], System.bearer(r.json()["token"])
    if consents:
        r = await system.notify.put(
            f"/v1/devices/{device_id}/consents",
            json={"policy_version": "2026-01", "purposes": consents},
            headers=auth,
        )
        assert r.status_code == 200, r.text
    sub = await subscribe(system.notify, push, device_id, auth) if push is not None else None
    return Shopper(device_id, auth, sub)


async def customer(system: System, push: LocalPushService | None, **consents: bool) -> Shopper:
    """A shopper's phone, by default consenting to pickup updates only (location is not needed for a trip)."""
    purposes = {"location": False, "offers": False, "pickup_updates": True, **consents}
    return await shopper(system, push, locale="en-GB", **purposes)


async def messages(system: System, who: Shopper) -> list[dict[str, Any]]:
    """The device's message log, oldest first."""
    r = await system.notify.get(f"/v1/devices/{who.device_id}/messages", headers=who.auth)
    assert r.status_code == 200, r.text
    return list(reversed(r.json()["messages"]))


async def settled(system: System, who: Shopper, count: int = 1) -> list[dict[str, Any]]:
    """The log once `count` messages are decided and none is still on its way."""

    async def probe() -> list[dict[str, Any]] | None:
        found = await messages(system, who)
        done = len(found) >= count and all(m["status"] not in ("pending", "sending") for m in found)
        return found if done else None

    return await eventually(probe)


async def attempts(db: asyncpg.Connection, message_id: int) -> list[asyncpg.Record]:
    """Every request notify made for the message, as it recorded them, first first."""
    return await db.fetch(
        """
        SELECT attempt, push_origin, outcome, status_code, retry_after_s, error, started_at, finished_at
        FROM notify.delivery_attempts WHERE message_id = $1 ORDER BY attempt
        """,
        message_id,
    )


# -------------------------------------------------------------------------------- moving about


def ping(lat: float, lng: float, at: datetime, accuracy_m: float = 8.0) -> dict[str, Any]:
    return {"lat": lat, "lng": lng, "accuracy_m": accuracy_m, "ts": at.isoformat()}


def walk_in(start: datetime | None = None, step_s: int = 20) -> list[dict[str, Any]]:
    """From 300 m north of the store to its centre at a walking pace (30 m every step_s seconds: 1.5 m/s
    by default), ending a couple of minutes ago."""
    start = start or datetime.now(UTC) - timedelta(minutes=6)
    pings = []
    for i, dist in enumerate(range(300, -1, -30)):
        lat, lng = destination(STORE["lat"], STORE["lng"], 0, dist)
        pings.append(ping(lat, lng, start + timedelta(seconds=i * step_s)))
    return pings


async def enter(system: System, who: Shopper) -> dict[str, Any]:
    """Walk into the store; return the zone.entered event."""
    r = await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=who.auth)
    assert r.status_code == 200, r.text
    [entered] = [e for e in r.json()["events"] if e["type"] == "zone.entered"]
    return entered


async def leave(system: System, who: Shopper) -> None:
    """Walk 300 m out of the store at 2 m/s, after `enter`: out for longer than the exit confirmation."""
    start = datetime.now(UTC) - timedelta(seconds=150)
    track = [
        ping(*destination(STORE["lat"], STORE["lng"], 0, d), start + timedelta(seconds=i * 10))
        for i, d in enumerate(range(0, 301, 20))
    ]
    r = await system.geo.post("/v1/pings", json={"pings": track}, headers=who.auth)
    assert r.status_code == 200, r.text
    assert "zone.exited" in [e["type"] for e in r.json()["events"]], r.text


async def feed_until(system: System, predicate: Any, service: str = "geo", **params: Any) -> list[dict[str, Any]]:
    """A service's event feed once it satisfies `predicate`: the feed holds an event back while an
    earlier transaction anywhere may still commit (so a reader never skips one), usually for milliseconds."""
    client = getattr(system, service)

    async def read() -> list[dict[str, Any]] | None:
        r = await client.get("/v1/events", params=params, headers=system.admin)
        events = r.json()["events"]
        return events if predicate(events) else None

    return await eventually(read)


# ------------------------------------------------------------------------------------- pickup


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


async def place_order(system: System, who: Shopper, name: str = "Camille", qty: int = 1, sku: str = SKU) -> str:
    r = await system.inventory.post(
        "/v1/orders",
        json={"store_id": "rivoli", "lines": [{"sku": sku, "qty": qty}], "display_name": name},
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


async def pull_in(system: System, who: Shopper, order_id: str) -> str:
    """Start the trip and stop in the bay at once: staff get approaching then arrived."""
    trip_id = await start_trip(system, who, order_id)
    now = datetime.now(UTC)
    await upload(system, who, [ping(*BAY, now - timedelta(seconds=8), accuracy_m=6), ping(*BAY, now, accuracy_m=6)])
    return trip_id


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
