"""Peak memory of a geo process holding N zones (it keeps every zone in its in-memory H3 index).

python bench/memory.py            # 5,000 and 50,000 zones
"""

from __future__ import annotations

import asyncio
import math
import random
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from bench.cluster import Cluster, free_port  # noqa: E402
from bench.report import figure  # noqa: E402
from services.geo.zones import geometry  # noqa: E402

CITY = (48.8566, 2.3522)


async def insert_zones(dsn: str, n: int) -> None:
    """Stores and zones straight into geo's tables (50,000 PUTs would only measure HTTP)."""
    rng = random.Random(1)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("TRUNCATE geo.zones, geo.stores CASCADE")
        stores = [(f"s{i}", f"Store {i}", CITY[0], CITY[1], "Europe/Paris") for i in range(n // 10 + 1)]
        await conn.copy_records_to_table(
            "stores", schema_name="geo", records=stores, columns=["store_id", "name", "lat", "lng", "timezone"]
        )
        zones = []
        for i in range(n):
            lat, lng = geometry.destination(*CITY, rng.uniform(0, 360), 30_000 * math.sqrt(rng.random()))
            if i % 2:
                shape = {"circle": {"lat": lat, "lng": lng, "radius_m": rng.uniform(10, 100)}}
            else:
                half = rng.uniform(10, 100)
                corners = [geometry.destination(lat, lng, 45 + 90 * k, half) for k in range(4)]
                ring = [[c[1], c[0]] for c in corners] + [[corners[0][1], corners[0][0]]]
                shape = {"polygon": {"type": "Polygon", "coordinates": [ring]}}
            zones.append((f"s{i // 10}", f"z{i}", "department", shape))
        await conn.executemany(
            "INSERT INTO geo.zones (store_id, zone_id, kind, shape) VALUES ($1, $2, $3, $4::jsonb)",
            [(s, z, k, __import__("json").dumps(shape)) for s, z, k, shape in zones],
        )
    finally:
        await conn.close()


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(cluster: Cluster, n: int) -> tuple[float, float]:
    asyncio.run(insert_zones(cluster.dsn, n))
    port = free_port()
    env = {**cluster._env({}), "ACCUEIL_GEO_PORT": str(port)}
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "shared.cli", "serve", "geo"], env=env, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"geo exited with {proc.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        return peak_rss_mib(proc.pid), time.perf_counter() - t
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(sizes: tuple[int, ...] = (5_000, 50_000)) -> list[tuple[int, float, float]]:
    results = []
    with Cluster(geo_processes=1) as cluster:
        print("peak memory of a geo process holding N zones (circles and squares of 20-200 m)")
        for n in sizes:
            mib, start_s = measure(cluster, n)
            figure(f"memory.{n}_zones.peak_rss", mib, "MiB")
            figure(f"memory.{n}_zones.ready_in", start_s, "s")
            print(f"    {n:>6,} zones: {mib:6.0f} MiB peak RSS, ready in {start_s:4.1f} s")
            results.append((n, mib, start_s))
    return results


if __name__ == "__main__":
    main()
