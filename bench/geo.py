"""geo benchmarks: prints figures, asserts nothing.

    python bench/geo.py              # both parts
    python bench/geo.py resolve      # (a) in-process zone resolution vs a shapely STRtree per ping
    python bench/geo.py ingest       # (b) ingest over HTTP with persistence, one geo process

(a) resolves 1,000,000 pings against 5,000 store zones (circles and polygons of 20-200 m) with the
    H3 index, at resolutions 10-12, beside the naive approach users would otherwise write (an STRtree
    query per ping) in the same run, and checks both give the same answers.
(b) starts `accueil run` on an embedded PostgreSQL in a temporary folder, registers devices that
    consent to location, and posts pings from a separate process: batches of 50, then single pings.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import shapely  # noqa: E402
from shapely import STRtree  # noqa: E402

from services.geo import geometry  # noqa: E402
from services.geo.zone_index import Zone, ZoneIndex  # noqa: E402

CITY = (48.8566, 2.3522)


def make_zones(n: int, rng: random.Random) -> list[Zone]:
    zones = []
    for i in range(n):
        lat, lng = geometry.destination(*CITY, rng.uniform(0, 360), 20_000 * math.sqrt(rng.random()))
        size = rng.uniform(20, 200)
        if i % 2:
            shape = geometry.circle(lat, lng, size / 2)
        else:
            corners = [geometry.destination(lat, lng, 45 + 90 * k + rng.uniform(-20, 20), size / 2) for k in range(4)]
            ring = [[c[1], c[0]] for c in corners] + [[corners[0][1], corners[0][0]]]
            shape = geometry.polygon({"type": "Polygon", "coordinates": [ring]})
        zones.append(Zone(f"s{i}", "z", "store", shape))
    return zones


def make_pings(zones: list[Zone], n: int, rng: random.Random) -> list[tuple[float, float]]:
    """Half near a zone (inside or just around it), half anywhere in town."""
    pings = []
    for i in range(n):
        if i % 2:
            z = zones[rng.randrange(len(zones))]
            minx, miny, maxx, maxy = z.shape.polygon.bounds
            pings.append((rng.uniform(miny, maxy), rng.uniform(minx, maxx)))
        else:
            pings.append(geometry.destination(*CITY, rng.uniform(0, 360), 20_000 * math.sqrt(rng.random())))
    return pings


def resolve(n_zones: int = 5_000, n_pings: int = 1_000_000) -> None:
    rng = random.Random(42)
    zones = make_zones(n_zones, rng)
    pings = make_pings(zones, n_pings, rng)
    print(f"(a) zone resolution: {n_zones} zones (circles and polygons, 20-200 m), {n_pings:,} pings, one core")

    geoms = [z.shape.polygon for z in zones]
    tree = STRtree(geoms)
    t = time.perf_counter()
    naive_hits = 0
    for lat, lng in pings:
        naive_hits += len(tree.query(shapely.Point(lng, lat), predicate="intersects"))
    naive_s = time.perf_counter() - t
    naive_rate = n_pings / naive_s
    print(f"    STRtree query per ping (baseline): {naive_rate:>12,.0f} pings/s")

    for res in (10, 11, 12):
        t = time.perf_counter()
        index = ZoneIndex(zones, resolution=res)
        build_s = time.perf_counter() - t
        t = time.perf_counter()
        hits = 0
        for lat, lng in pings:
            hits += len(index.zones_at(lat, lng))
        elapsed = time.perf_counter() - t
        rate = n_pings / elapsed
        cells = len(index._cells)
        print(
            f"    H3 index, resolution {res}: {rate:>12,.0f} pings/s = {rate / naive_rate:4.1f}x baseline"
            f" (build {build_s:4.1f} s, {cells:,} cells)"
        )
    # Same answers as the exact test (circles use the geodesic radius, so compare on a sample).
    index = ZoneIndex(zones)
    sample = pings[:20_000]
    mismatches = sum(
        {z.key for z in index.zones_at(lat, lng)} != {z.key for z in zones if z.shape.contains(lat, lng)}
        for lat, lng in sample[:2_000]
    )
    print(f"    index vs exact test of every zone, 2,000 pings: {mismatches} mismatches; baseline hits {naive_hits:,}")


# --- (b) ingest over HTTP ---


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by the geo process, by PostgreSQL, and by this script."""
    import psutil

    totals = {"geo": 0.0, "postgres": 0.0, "client": 0.0}
    me = psutil.Process()
    totals["client"] = sum(me.cpu_times()[:2])
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            if "serve geo" in cmd:
                totals["geo"] += sum(proc.cpu_times()[:2])
            elif proc.info["name"] == "postgres" and "accueil-bench-" in cmd:  # the postmaster of our server
                for pg in [proc, *proc.children(recursive=True)]:
                    totals["postgres"] += sum(pg.cpu_times()[:2])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return totals


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


async def _ingest(base: dict[str, str], admin: str) -> None:
    import aiohttp

    geo, notify = base["geo"], base["notify"]
    headers = {"Authorization": f"Bearer {admin}"}
    async with aiohttp.ClientSession() as http:
        store = {"name": "Bench", "lat": CITY[0], "lng": CITY[1]}
        await http.put(f"{geo}/v1/stores/bench", json=store, headers=headers)
        rng = random.Random(7)
        for i in range(200):
            lat, lng = geometry.destination(*CITY, rng.uniform(0, 360), 3_000 * math.sqrt(rng.random()))
            zone = {"kind": "department", "circle": {"lat": lat, "lng": lng, "radius_m": rng.uniform(10, 100)}}
            await http.put(f"{geo}/v1/stores/bench/zones/z{i}", json=zone, headers=headers)
        devices = []
        for _ in range(64):
            async with http.post(f"{notify}/v1/devices", json={"platform": "android", "locale": "fr"}) as r:
                d = await r.json()
            auth = {"Authorization": f"Bearer {d['token']}"}
            consent = {"policy_version": "bench", "purposes": {"location": True}}
            await http.put(f"{notify}/v1/devices/{d['device_id']}/consents", json=consent, headers=auth)
            devices.append(auth)
        await asyncio.sleep(1)  # let geo take in the consents

        clock = {i: datetime.now(UTC) - timedelta(hours=2) for i in range(len(devices))}

        def pings_for(i: int, n: int) -> list[dict]:
            out = []
            for _ in range(n):
                clock[i] += timedelta(seconds=1)
                lat, lng = geometry.destination(*CITY, rng.uniform(0, 360), 3_000 * math.sqrt(rng.random()))
                out.append({"lat": lat, "lng": lng, "accuracy_m": 10, "ts": clock[i].isoformat()})
            return out

        async def run(batch: int, requests: int, concurrency: int) -> None:
            latencies: list[float] = []
            queue = list(range(requests))

            async def client(c: int) -> None:
                while queue:
                    queue.pop()
                    i = c  # each client is one device: its pings stay in time order
                    body = {"pings": pings_for(i, batch)}
                    t = time.perf_counter()
                    async with http.post(f"{geo}/v1/pings", json=body, headers=devices[i]) as r:
                        await r.read()
                        assert r.status == 200, await r.text()
                    latencies.append(time.perf_counter() - t)

            cpu = cpu_seconds()
            t = time.perf_counter()
            await asyncio.gather(*(client(c) for c in range(concurrency)))
            elapsed = time.perf_counter() - t
            used = {k: v - cpu.get(k, 0.0) for k, v in cpu_seconds().items()}
            rate = requests / elapsed
            print(
                f"    batches of {batch:>2}: {rate * batch:>9,.0f} pings/s, {rate:>7,.0f} requests/s,"
                f" p50 {percentile(latencies, 50) * 1000:5.1f} ms, p99 {percentile(latencies, 99) * 1000:5.1f} ms"
                f"  ({requests} requests, {concurrency} concurrent devices)\n"
                f"        CPU per request: geo {used['geo'] / requests * 1e6:,.0f} us,"
                f" postgres {used['postgres'] / requests * 1e6:,.0f} us,"
                f" this load generator {used['client'] / requests * 1e6:,.0f} us"
            )

        await run(50, 200, 32)  # warm-up
        print("(b) ingest over HTTP, one geo process, persistence and presence, embedded PostgreSQL")
        await run(50, 2_000, 32)
        await run(1, 10_000, 32)


def ingest() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="accueil-bench-"))
    ports = {s: free_port() for s in ("geo", "inventory", "notify")}
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"ACCUEIL_DATA_DIR": str(data_dir), "ACCUEIL_LOG_LEVEL": "WARNING"})
    env.update({f"ACCUEIL_{s.upper()}_PORT": str(p) for s, p in ports.items()})
    proc = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        admin = None
        for line in proc.stdout:
            if m := re.search(r"admin token: (\S+)", line):
                admin = m.group(1)
            if line.startswith("Ctrl-C"):
                break
        assert admin, "accueil run did not start"
        asyncio.run(_ingest({s: f"http://127.0.0.1:{p}" for s, p in ports.items()}, admin))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


if __name__ == "__main__":
    parts = sys.argv[1:] or ["resolve", "ingest"]
    if "resolve" in parts:
        resolve()
    if "ingest" in parts:
        ingest()
    print(f"machine: {os.cpu_count()} cores; {statistics.__name__ and sys.version.split()[0]}")
