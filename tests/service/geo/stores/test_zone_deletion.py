"""Deleting a zone while the devices inside it are sending pings: the deletion and the group commit of
those pings take turns on each device, so no visit of the deleted zone comes back and nothing is said
about the zone after its deletion."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.geo.devices.schemas import PingIn
from services.geo.devices.service import Upload, ingest
from services.geo.settings import GeoSettings
from services.geo.stores.service import delete_zone
from tests.conftest import TESTING_NOTIFY, System
from tests.support.builders import STORE, create_store, shopper

DEVICES = 24
ROUNDS = 25
DWELL_S = 30


@pytest.fixture
def configs() -> dict[str, Any]:
    """Every device uploads three times a round: no request budget gets in the way."""
    return {"notify": TESTING_NOTIFY, "geo": GeoSettings(request_burst=1_000)}


def standing(at: datetime) -> PingIn:
    """A phone standing still at the store's centre: inside every zone drawn around it."""
    return PingIn(lat=STORE["lat"], lng=STORE["lng"], accuracy_m=5.0, ts=at, speed_mps=0.0)


async def test_a_zone_deleted_while_the_devices_inside_send_pings_stays_deleted(system: System, db) -> None:
    await create_store(system)
    ctx = system.running.state("geo")
    devices = [(await shopper(system, location=True)).device_id for _ in range(DEVICES)]
    start = datetime.now(UTC) - timedelta(hours=2)
    random.seed(24)
    seen_first = {"pings": 0, "deletion": 0}
    for n in range(ROUNDS):
        zone_id = f"aisle-{n}"
        at = start + timedelta(minutes=2 * n)
        circle = {"lat": STORE["lat"], "lng": STORE["lng"], "radius_m": 40}
        r = await system.geo.put(
            f"/v1/stores/rivoli/zones/{zone_id}",
            json={"kind": "department", "circle": circle, "dwell_s": DWELL_S},
            headers=system.admin,
        )
        assert r.status_code == 200, r.text
        await asyncio.gather(*(ingest(ctx, Upload(d, pings=[standing(at)])) for d in devices))
        inside = await db.fetchval("SELECT count(*) FROM geo.visits WHERE zone_id = $1", zone_id)
        assert inside == DEVICES

        async def deletion(zone_id: str) -> None:
            await asyncio.sleep(random.uniform(0, 0.015))  # anywhere in the group's lock, apply and write
            await delete_zone(ctx, "rivoli", zone_id)

        # Past the zone's dwell time: a device still in the zone when its ping is applied dwells there.
        later = at + timedelta(seconds=DWELL_S + 1)
        results = await asyncio.gather(
            deletion(zone_id), *(ingest(ctx, Upload(d, pings=[standing(later)])) for d in devices)
        )
        assert all(result.accepted == 1 for result in results[1:])
        # And once it is all over, the devices are still there, inside where the zone was.
        await asyncio.gather(*(ingest(ctx, Upload(d, pings=[standing(later + timedelta(seconds=5))])) for d in devices))

        events = await db.fetch(
            "SELECT id, type, device_id, data FROM bus.events WHERE zone_id = $1 ORDER BY id", zone_id
        )
        exits = [e for e in events if e["type"] == "zone.exited" and e["data"].get("reason") == "zone_deleted"]
        assert sorted(e["device_id"] for e in exits) == sorted(devices), f"round {n}: every device inside gets its exit"
        exit_ids = {e["id"] for e in exits}
        after = [(e["type"], e["device_id"]) for e in events if e["id"] > min(exit_ids) and e["id"] not in exit_ids]
        assert after == [], f"round {n}: said about the zone after its deletion"
        assert await db.fetchval("SELECT count(*) FROM geo.visits WHERE zone_id = $1", zone_id) == 0, f"round {n}"
        logged = await db.fetchval("SELECT count(*) FROM geo.visit_log WHERE zone_id = $1", zone_id)
        assert logged == DEVICES, f"round {n}"
        # Which went first on each device: a visit that lasted past the entry had the later ping first.
        for e in exits:
            seen_first["pings" if e["data"]["duration_s"] > 0 else "deletion"] += 1
    # The two really ran into each other: in some rounds the pings got the devices first, in others the deletion.
    assert seen_first["pings"] > 0 and seen_first["deletion"] > 0, seen_first
