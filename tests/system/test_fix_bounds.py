"""What one device can make geo hold, and what its export costs: stored fixes grow with event time,
not with how fast the device uploads, and a day of them is exported in bounded memory."""

from __future__ import annotations

import random
import tracemalloc
from datetime import UTC, datetime, timedelta

import httpx
import msgspec

from tests.conftest import System
from tests.support.builders import STORE, create_store, shopper
from tests.support.gps import Phone, ping, still

CENTRE = (STORE["lat"], STORE["lng"])
BATCH = 500  # the most one upload may carry


async def stored(db, device_id: str) -> list[datetime]:
    rows = await db.fetch("SELECT ts FROM geo.pings WHERE device_id = $1 ORDER BY ts", device_id)
    return [r["ts"] for r in rows]


def closest_gap_s(times: list[datetime]) -> float:
    return min((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False))


async def test_a_device_uploading_as_fast_as_it_may_stores_one_fix_a_second(system: System, db) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    start = datetime.now(UTC) - timedelta(hours=1)
    # A phone on the shop floor sending 10 fixes a second of its time, 500 an upload, its whole burst of
    # uploads at once: 15,000 fixes over 25 minutes of event time.
    fixes = [ping(f) for f in still(Phone(random.Random(5)), CENTRE, start, minutes=25, every_s=0.1)]
    events = []
    for i in range(0, len(fixes), BATCH):
        r = await system.geo.post("/v1/pings", json={"pings": fixes[i : i + BATCH]}, headers=who.auth)
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == BATCH
        events += r.json()["events"]
    times = await stored(db, who.device_id)
    assert 25 * 60 - 5 <= len(times) <= 25 * 60 + 1  # one a second of event time, not 15,000
    assert closest_gap_s(times) >= 1.0
    # Every fix still moved presence: the device is in, and its newest fix is the last one sent.
    assert [e["type"] for e in events] == ["zone.entered"]
    r = await system.geo.get(f"/v1/devices/{who.device_id}/context", headers=who.auth)
    assert datetime.fromisoformat(r.json()["last_fix_at"]) == datetime.fromisoformat(fixes[-1]["ts"])

    # The same minutes sent again late, between the fixes stored: nothing closer than a second is added.
    late = [ping(f) for f in still(Phone(random.Random(6)), CENTRE, start + timedelta(seconds=0.05), 0.8, 0.1)]
    r = await system.geo.post("/v1/pings", json={"pings": late}, headers=who.auth)
    assert r.status_code == 200 and r.json()["accepted"] == len(late)
    assert await stored(db, who.device_id) == times


MEMORY_BOUND = 8 * 1024 * 1024
"""The most a day of one device's fixes (86,400, about 14 MB of JSON) may add to this process's
traced memory while geo reads and writes them, notify relays them and the client counts them."""


async def count_streamed(client: httpx.AsyncClient, path: str, auth: dict[str, str]) -> tuple[int, int]:
    """(pings in the answer, peak traced memory growth while it was made and read), reading it a chunk
    at a time: what is measured is the services', not a client holding the whole answer."""
    marker, seen, tail = b'"received_at":', 0, b""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        async with client.stream("GET", path, headers=auth) as r:
            assert r.status_code == 200
            async for chunk in r.aiter_bytes():
                text = tail + chunk
                seen += text.count(marker)
                tail = text[-(len(marker) - 1) :]  # too short to hold a marker counted already
        return seen, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


async def test_a_day_of_fixes_is_exported_whole_in_bounded_memory(system: System, db) -> None:
    who = await shopper(system, location=True)
    day = 86_400
    await db.execute(
        """
        INSERT INTO geo.pings (device_id, ts, lat, lng, accuracy_m, speed_mps, heading)
        SELECT $1, now() - interval '23 hours 50 minutes' + i * interval '0.99 s',
               $2 + random() * 1e-4, $3 + random() * 1e-4, 12, 1.2, 90
        FROM generate_series(0, $4 - 1) AS i
        """,
        who.device_id,
        *CENTRE,
        day,
    )
    data = f"/v1/devices/{who.device_id}/data"
    count, grown = await count_streamed(system.geo, data, who.auth)
    assert count == day and grown < MEMORY_BOUND, (count, grown)
    count, grown = await count_streamed(system.notify, f"/v1/devices/{who.device_id}/export", who.auth)
    assert count == day and grown < MEMORY_BOUND, (count, grown)

    # The documents are whole, in their shape, the pings in order.
    export = msgspec.json.decode(
        (await system.notify.get(f"/v1/devices/{who.device_id}/export", headers=who.auth)).content
    )
    pings = export["geo"]["pings"]
    # In time order (read as instants: "…:03Z" comes after "…:02.99Z", though not as text).
    times = [datetime.fromisoformat(p["ts"].replace("Z", "+00:00")) for p in pings]
    assert len(pings) == day and times == sorted(times)
    assert export["device_id"] == who.device_id and export["geo"]["trips"] == []
    assert set(pings[0]) == {"ts", "lat", "lng", "accuracy_m", "speed_mps", "heading", "received_at"}


async def test_an_export_geo_cannot_give_is_refused_before_it_starts(system: System) -> None:
    who = await shopper(system, location=True)
    await system.running.stop("geo")
    r = await system.notify.get(f"/v1/devices/{who.device_id}/export", headers=who.auth)
    assert r.status_code == 502 and "geo" in r.json()["detail"]
    await system.running.start("geo")
    r = await system.notify.get(f"/v1/devices/{who.device_id}/export", headers=who.auth)
    assert r.status_code == 200 and r.json()["geo"]["pings"] == []
