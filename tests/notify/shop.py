"""Builders for notify's tests through the three running services: a store with stock and campaigns,
shoppers (with their language, time zone and push subscription) who walk in and out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.geodesy import destination
from tests.conftest import System, eventually
from tests.helpers import STORE, create_store, ping, timezone_at, walk_in
from tests.push_service import LocalPushService, Subscriber, subscribe
from tests.system.notify_stock import stock_product

TEXTS = {
    "fr": {"title": "Bienvenue", "body": "{product} à -20 % aujourd'hui"},
    "en": {"title": "Welcome", "body": "{product} at 20% off today"},
}


@dataclass
class Shopper:
    device_id: str
    auth: dict[str, str]
    sub: Subscriber | None


DAYTIME = 12
NIGHT = 2


async def shop(system: System, *products: tuple[str, str, int], names: dict[str, dict[str, str]] | None = None) -> None:
    """The store `rivoli` with its zone, and (sku, name, on hand) products in one category, once
    notify's stock replica has them."""
    await create_store(system)
    for sku, name, on_hand in products:
        await stock_product(system, sku, name, on_hand, names=(names or {}).get(sku, {}))


async def campaign(system: System, campaign_id: str, sku: str, trigger: str = "zone.entered", **message: Any) -> None:
    body = {"trigger": {"type": trigger, "zone_kind": "store"}, "sku": sku, "message": message or TEXTS}
    r = await system.notify.put(f"/v1/campaigns/{campaign_id}", json=body, headers=system.admin)
    assert r.status_code == 200, r.text


async def shopper(
    system: System,
    push: LocalPushService | None,
    *,
    locale: str = "fr-FR",
    hour: int = DAYTIME,
    consents: dict[str, bool] | None = None,
) -> Shopper:
    """A registered device where it is `hour` o'clock, with consents, subscribed to `push` if given."""
    r = await system.notify.post(
        "/v1/devices", json={"platform": "web", "locale": locale, "timezone": timezone_at(hour)}
    )
    assert r.status_code == 201, r.text
    device_id, auth = r.json()["device_id"], System.bearer(r.json()["token"])
    purposes = {"location": True, "offers": True, "pickup_updates": True} if consents is None else consents
    r = await system.notify.put(
        f"/v1/devices/{device_id}/consents", json={"policy_version": "2026-01", "purposes": purposes}, headers=auth
    )
    assert r.status_code == 200, r.text
    sub = await subscribe(system.notify, push, device_id, auth) if push is not None else None
    return Shopper(device_id, auth, sub)


async def enter(system: System, who: Shopper) -> dict[str, Any]:
    """Walk into the store; return the zone.entered event."""
    r = await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=who.auth)
    assert r.status_code == 200, r.text
    [entered] = [e for e in r.json()["events"] if e["type"] == "zone.entered"]
    return entered


async def leave(system: System, who: Shopper) -> None:
    """Walk 300 m out of the store, after `enter`."""
    start = datetime.now(UTC) - timedelta(seconds=50)
    track = [
        ping(*destination(STORE["lat"], STORE["lng"], 0, d), start + timedelta(seconds=i * 4))
        for i, d in enumerate(range(0, 301, 30))
    ]
    r = await system.geo.post("/v1/pings", json={"pings": track}, headers=who.auth)
    assert r.status_code == 200, r.text
    assert "zone.exited" in [e["type"] for e in r.json()["events"]], r.text


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
