"""Pickup alert latency: prints figures, asserts nothing.

    python bench/pickup.py            # 100 trips
    python bench/pickup.py 300        # or another number
    python bench/pickup.py 100 --under-load   # while 8 other phones upload batches of 50 pings non-stop

Starts the three services as separate `accueil serve` processes on an embedded PostgreSQL in a
temporary folder (bench/cluster.py), seeds a store with a pickup bay, and opens the staff alert stream
as a staff tablet would. Then, one trip at a time, a shopper orders, sets off and pulls into the bay;
for each trip it measures the time from the HTTP response to the ping that makes the car arrive, to
the arrival alert on the staff stream. That path crosses geo's transaction, the event bus (NOTIFY,
then notify's consumer claiming the event), the alert's own transaction and NOTIFY, and notify's
listening connection fanning it out to the open stream.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster import ADMIN, Cluster  # noqa: E402
from bench.report import figure  # noqa: E402
from shared.geodesy import destination  # noqa: E402
from shared.sse import sse_messages  # noqa: E402

CENTRE = (48.8600, 2.3470)
BAY = destination(*CENTRE, 90, 40)
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}


def fix(lat: float, lng: float, at: datetime, **extra: float) -> dict:
    return {"lat": lat, "lng": lng, "accuracy_m": 6, "ts": at.isoformat(), **extra}


async def seed(http: httpx.AsyncClient, cluster: Cluster) -> str:
    geo, inventory, notify = cluster.geo[0], cluster.inventory, cluster.notify
    await http.put(
        f"{geo}/v1/stores/bench", json={"name": "Bench", "lat": CENTRE[0], "lng": CENTRE[1]}, headers=ADMIN_AUTH
    )
    zones = {
        "shop": {"kind": "store", "circle": {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 30}},
        "bay-2": {"kind": "pickup", "name": "bay 2", "circle": {"lat": BAY[0], "lng": BAY[1], "radius_m": 15}},
        "approach": {"kind": "approach", "circle": {"lat": CENTRE[0], "lng": CENTRE[1], "radius_m": 800}},
    }
    for zone_id, zone in zones.items():
        r = await http.put(f"{geo}/v1/stores/bench/zones/{zone_id}", json=zone, headers=ADMIN_AUTH)
        r.raise_for_status()
    await http.put(f"{inventory}/v1/products/BOX", json={"name": "Box", "category": "fresh"}, headers=ADMIN_AUTH)
    await http.put(f"{inventory}/v1/stores/bench/stock/BOX", json={"on_hand": 100_000}, headers=ADMIN_AUTH)
    r = await http.post(f"{notify}/v1/stores/bench/staff", json={"name": "Alex"}, headers=ADMIN_AUTH)
    r.raise_for_status()
    return r.json()["token"]


async def trip(http: httpx.AsyncClient, cluster: Cluster, arrivals: dict[str, asyncio.Future[float]]) -> float:
    """One shopper's pickup; returns seconds from the arriving ping's response to the staff alert."""
    geo, inventory, notify = cluster.geo[0], cluster.inventory, cluster.notify
    device = (await http.post(f"{notify}/v1/devices", json={"platform": "web", "locale": "en"})).json()
    auth = {"Authorization": f"Bearer {device['token']}"}
    consents = {"policy_version": "bench", "purposes": {"pickup_updates": True}}
    await http.put(f"{notify}/v1/devices/{device['device_id']}/consents", json=consents, headers=auth)
    order = await http.post(
        f"{inventory}/v1/orders",
        json={"store_id": "bench", "lines": [{"sku": "BOX", "qty": 1}], "display_name": "Camille"},
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
    )
    order.raise_for_status()
    r = await http.post(
        f"{geo}/v1/trips", json={"order_id": order.json()["order_id"], "store_id": "bench", "mode": "car"}, headers=auth
    )
    r.raise_for_status()
    trip_id = r.json()["trip_id"]
    arrived = arrivals[trip_id] = asyncio.get_running_loop().create_future()
    now = datetime.now(UTC)
    approaching = [
        fix(*destination(*BAY, 90, d), now - timedelta(seconds=s), speed_mps=10) for d, s in ((400, 40), (300, 30))
    ]
    r = await http.post(f"{geo}/v1/pings", json={"pings": approaching}, headers=auth)
    r.raise_for_status()
    r = await http.post(f"{geo}/v1/pings", json={"pings": [fix(*BAY, now)]}, headers=auth)
    answered = time.perf_counter()
    assert [e["type"] for e in r.json()["events"] if e["type"].startswith("trip.")] == ["trip.arrived"], r.text
    return await asyncio.wait_for(arrived, 10) - answered


async def listen(
    http: httpx.AsyncClient, url: str, token: str, arrivals: dict[str, asyncio.Future[float]], opened: asyncio.Event
) -> None:
    async with http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}, timeout=None) as r:
        opened.set()
        async for message in sse_messages(r.aiter_lines()):
            seen = time.perf_counter()
            alert = message.json()
            waiting = arrivals.get(alert["trip_id"])
            if message.event == "alert" and alert["kind"] == "arrived" and waiting is not None and not waiting.done():
                waiting.set_result(seen)


async def ping_load(http: httpx.AsyncClient, cluster: Cluster, stop: asyncio.Event, phones: int = 8) -> int:
    """Phones elsewhere in town uploading batches of 50 fixes as fast as they are answered."""
    geo, notify = cluster.geo[0], cluster.notify
    auths = []
    for _ in range(phones):
        device = (await http.post(f"{notify}/v1/devices", json={"platform": "android", "locale": "fr"})).json()
        auth = {"Authorization": f"Bearer {device['token']}"}
        consents = {"policy_version": "bench", "purposes": {"location": True}}
        await http.put(f"{notify}/v1/devices/{device['device_id']}/consents", json=consents, headers=auth)
        auths.append(auth)
    await asyncio.sleep(1)
    sent = [0]

    async def phone(auth: dict[str, str], start: datetime) -> None:
        at = start
        while not stop.is_set():
            batch = []
            for i in range(50):
                at += timedelta(seconds=1)
                batch.append(fix(*destination(*CENTRE, (i * 37) % 360, 2_000 + i * 10), at))
            r = await http.post(f"{geo}/v1/pings", json={"pings": batch}, headers=auth)
            r.raise_for_status()
            sent[0] += len(batch)

    start = datetime.now(UTC) - timedelta(hours=5)
    await asyncio.gather(*(phone(a, start) for a in auths))
    return sent[0]


async def bench(trips: int, under_load: bool = False) -> None:
    env = {"ACCUEIL_REQUESTS_PER_S": "1000000", "ACCUEIL_REQUEST_BURST": "1000000"} if under_load else {}
    with Cluster(**env) as cluster:
        async with httpx.AsyncClient(timeout=10) as http:
            token = await seed(http, cluster)
            stop = asyncio.Event()
            load = asyncio.create_task(ping_load(http, cluster, stop)) if under_load else None
            started = time.perf_counter()
            arrivals: dict[str, asyncio.Future[float]] = {}
            opened = asyncio.Event()
            url = f"{cluster.notify}/v1/stores/bench/alerts/stream"
            listener = asyncio.create_task(listen(http, url, token, arrivals, opened))
            await asyncio.wait_for(opened.wait(), 10)
            for _ in range(3):  # warm up: connections, caches
                await trip(http, cluster, arrivals)
            latencies = [await trip(http, cluster, arrivals) for _ in range(trips)]
            elapsed = time.perf_counter() - started
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
            if load is not None:
                stop.set()
                pings = await load
                rate = figure("pickup.under_load.pings_per_s", pings / elapsed, "pings/s")
                print(f"under load: 8 other phones uploaded {rate:,.0f} pings/s (batches of 50) meanwhile")
    ms = sorted(x * 1000 for x in latencies)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    load = "under_load" if under_load else "alone"
    figure(f"pickup.{load}.arrival_to_alert_p50", p50, "ms")
    figure(f"pickup.{load}.arrival_to_alert_p99", p99, "ms")
    print(f"arrival ping answered -> arrival alert on the staff stream, {trips} trips, one at a time:")
    print(f"  p50 {p50:.1f} ms   p99 {p99:.1f} ms   max {ms[-1]:.1f} ms   mean {statistics.fmean(ms):.1f} ms")
    print(f"  target p99 < 500 ms: {'met' if p99 < 500 else 'NOT met'}")


if __name__ == "__main__":
    print(f"$ python bench/pickup.py {' '.join(sys.argv[1:])}".rstrip())
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    asyncio.run(bench(int(numbers[0]) if numbers else 100, under_load="--under-load" in sys.argv))
