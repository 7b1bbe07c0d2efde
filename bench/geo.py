"""geo benchmarks: prints figures, asserts nothing.

    python bench/geo.py              # both parts
    python bench/geo.py resolve      # (a) in-process zone resolution vs a shapely STRtree per ping
    python bench/geo.py ingest       # (b) ingest over HTTP with persistence, one geo process
    python bench/geo.py ingest2      # (b) the same with two geo processes on the same database
    python bench/geo.py cold [N]     # (c) a cold fleet: N phones (20,000), uploads of 1-10 fixes, one geo process

(a) resolves 1,000,000 pings against 5,000 store zones (circles and polygons of 20-200 m) with the
    H3 index, one fix at a time and as one batch, beside h3's own cell lookup per ping (the floor) and
    the naive approach users would otherwise write (an STRtree query per ping) in the same run, and
    checks the batch answers exactly what the fixes one by one do, and those what an exact test does.
(b) starts the services on an embedded PostgreSQL in a temporary folder, registers devices that
    consent to location, and posts pings from this process: batches of 50 from 8 phones, then single
    pings from 64 phones, each phone on its own keep-alive connection. Then the same single-ping
    load against a bare Litestar endpoint on the same server, in the same run: this machine's speed
    varies from hour to hour, the ratio between the two much less.
(c) the shape a real fleet sends, which (b) does not: many phones (20,000), each upload 1 to 10 fixes
    of one phone, the phones in random order, so that nearly every upload finds its device cold (its
    state loaded, locked, advanced and written for a handful of fixes). The phones are registered and
    send a first upload before anything is counted; then the same uploads go to the bare endpoint.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import random
import sys
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

import msgspec  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from shapely import STRtree  # noqa: E402

from bench.http_client import Connection  # noqa: E402
from bench.measure import best_of, cpu_s  # noqa: E402
from bench.report import figure  # noqa: E402
from services.geo.zones import geometry  # noqa: E402
from services.geo.zones.zone_index import RESOLUTION, Zone, ZoneIndex, latlng_to_cell  # noqa: E402
from shared.geodesy import destination  # noqa: E402

CITY = (48.8566, 2.3522)


def make_zones(n: int, rng: random.Random) -> list[Zone]:
    zones = []
    for i in range(n):
        lat, lng = destination(*CITY, rng.uniform(0, 360), 20_000 * math.sqrt(rng.random()))
        size = rng.uniform(20, 200)
        if i % 2:
            shape = geometry.circle(lat, lng, size / 2)
        else:
            corners = [destination(lat, lng, 45 + 90 * k + rng.uniform(-20, 20), size / 2) for k in range(4)]
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
            pings.append(destination(*CITY, rng.uniform(0, 360), 20_000 * math.sqrt(rng.random())))
    return pings


def resolve(n_zones: int = 5_000, n_pings: int = 1_000_000) -> None:
    rng = random.Random(42)
    zones = make_zones(n_zones, rng)
    pings = make_pings(zones, n_pings, rng)
    print(f"(a) zone resolution: {n_zones} zones (circles and polygons, 20-200 m), {n_pings:,} pings, one core")

    geoms = [z.shape.polygon for z in zones]
    tree = STRtree(geoms)
    # As in the service, which freezes its startup heap: the million test pings are not the
    # collector's business, and full collections walking them would be timed as lookups.
    gc.collect()
    gc.freeze()
    t = time.perf_counter()
    naive_hits = 0
    for lat, lng in pings:
        naive_hits += len(tree.query(shapely.Point(lng, lat), predicate="intersects"))
    naive_s = time.perf_counter() - t
    naive_rate = n_pings / naive_s
    figure("resolve.strtree_per_ping", naive_rate, "pings/s")
    print(f"    STRtree query per ping (baseline): {naive_rate:>12,.0f} pings/s")

    def h3_alone() -> None:
        for lat, lng in pings:
            latlng_to_cell(lat, lng, RESOLUTION)

    h3_rate = n_pings / best_of(3, h3_alone)
    figure("resolve.h3_floor", h3_rate, "pings/s")
    print(f"    h3 latlng_to_cell alone (the floor): {h3_rate:>10,.0f} pings/s")

    t = time.perf_counter()
    index = ZoneIndex(zones)
    build_s = time.perf_counter() - t
    gc.collect()
    gc.freeze()
    t = time.perf_counter()
    one_by_one = [index.zones_at(lat, lng) for lat, lng in pings]
    rate = n_pings / (time.perf_counter() - t)
    figure("resolve.index_per_fix", rate, "pings/s")
    figure("resolve.index_per_fix_to_floor", rate / h3_rate, "ratio")
    print(
        f"    H3 index, one fix at a time:  {rate:>12,.0f} pings/s = {rate / h3_rate:.2f} of the floor,"
        f" {rate / naive_rate:4.1f}x baseline (build {build_s:4.1f} s, {index.cells:,} cells)"
    )
    # The batch path takes arrays, as an upload's pings are turned into once.
    lats, lngs = np.array([p[0] for p in pings]), np.array([p[1] for p in pings])
    batch = index.resolve_many(lats, lngs)
    batch_rate = n_pings / best_of(3, lambda: index.resolve_many(lats, lngs))
    figure("resolve.index_batch", batch_rate, "pings/s")
    figure("resolve.index_batch_to_floor", batch_rate / h3_rate, "ratio")
    print(
        f"    H3 index, one batch:          {batch_rate:>12,.0f} pings/s = {batch_rate / h3_rate:.2f} of the floor"
        " (the target is 1.0)"
    )
    mismatches = sum([z.key for z in here] != [z.key for z in batch[i]] for i, here in enumerate(one_by_one))
    figure("resolve.batch_mismatches", mismatches, "pings")
    print(f"    batch vs one at a time, {n_pings:,} pings: {mismatches} mismatches (zones and their order)")
    # Same answers as the exact test (circles use the geodesic radius, so compare on a sample).
    sample = pings[:2_000]
    mismatches = sum(
        {z.key for z in index.zones_at(lat, lng)} != {z.key for z in zones if z.shape.contains(lat, lng)}
        for lat, lng in sample
    )
    print(f"    index vs exact test of every zone, 2,000 pings: {mismatches} mismatches; baseline hits {naive_hits:,}")
    postgis(zones, pings[:10_000], rate)


def postgis(zones: list[Zone], pings: list[tuple[float, float]], index_rate: float) -> None:
    """One ST_Contains query per ping, as a service asking PostGIS would (set ACCUEIL_BENCH_POSTGIS_URL
    to a PostgreSQL where CREATE EXTENSION postgis works)."""
    url = os.environ.get("ACCUEIL_BENCH_POSTGIS_URL")
    if not url:
        print("    PostGIS ST_Contains per ping: skipped: no PostGIS (set ACCUEIL_BENCH_POSTGIS_URL)")
        return

    async def run() -> float:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            await conn.execute("DROP TABLE IF EXISTS bench_zones")
            await conn.execute("CREATE TABLE bench_zones (zone_id text, geom geometry(Polygon, 4326))")
            await conn.executemany(
                "INSERT INTO bench_zones VALUES ($1, ST_GeomFromText($2, 4326))",
                [(z.store_id, z.shape.polygon.wkt) for z in zones],
            )
            await conn.execute("CREATE INDEX ON bench_zones USING gist (geom)")
            await conn.execute("ANALYZE bench_zones")
            query = "SELECT zone_id FROM bench_zones WHERE ST_Contains(geom, ST_SetSRID(ST_Point($1, $2), 4326))"
            t = time.perf_counter()
            for lat, lng in pings:
                await conn.fetch(query, lng, lat)
            return len(pings) / (time.perf_counter() - t)
        finally:
            await conn.execute("DROP TABLE IF EXISTS bench_zones")
            await conn.close()

    try:
        rate = asyncio.run(run())
    except Exception as exc:  # no server, or no PostGIS in it
        print(f"    PostGIS ST_Contains per ping: skipped: no PostGIS ({type(exc).__name__})")
        return
    print(
        f"    PostGIS ST_Contains per ping:       {rate:>12,.0f} pings/s;"
        f" the H3 index (res 11) is {index_rate / rate:,.0f}x"
    )


# --- (b) ingest over HTTP ---


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def cpu_seconds(geo_pids: list[int], postmaster_pid: int | None) -> dict[str, float]:
    """CPU time used so far by the geo processes, by PostgreSQL, and by this script."""
    return {
        "geo": cpu_s(geo_pids),
        "postgres": cpu_s([postmaster_pid] if postmaster_pid else [], children=True),
        "client": cpu_s([os.getpid()]),
    }


async def post_load(urls: list[str], requests: list[list[tuple[bytes, dict[str, str]]]]) -> tuple[float, list[float]]:
    """One connection per list of requests (body, headers), posting its next body to /v1/pings as soon
    as the last is answered; (seconds taken, latency of each request). Bodies are encoded beforehand:
    the load generator's CPU is taken from the server's."""
    connections = [await Connection.open(url) for url in urls]
    latencies: list[float] = []

    async def phone(c: int) -> None:
        for body, headers in requests[c]:
            t = time.perf_counter()
            status, answer = await connections[c].post_json("/v1/pings", body, headers)
            assert status == 200, answer
            latencies.append(time.perf_counter() - t)

    t = time.perf_counter()
    await asyncio.gather(*(phone(c) for c in range(len(urls))))
    elapsed = time.perf_counter() - t
    for connection in connections:
        await connection.close()
    return elapsed, latencies


def bare_floor(requests: list[list[tuple[bytes, dict[str, str]]]], warm_up: int = 100) -> dict[str, float]:
    """The same load (one list of requests per connection) against a bare Litestar endpoint
    (bench/bare_app.py) that stores nothing: what the server and the load generator cost on their own,
    on this machine, now."""
    import subprocess

    import httpx

    from bench.cluster import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, str(Path(__file__).parent / "bare_app.py"), str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.post(f"{url}/v1/pings", json={"pings": []})
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        urls = [url] * len(requests)
        asyncio.run(post_load(urls, [r[:warm_up] for r in requests]))
        cpu = cpu_s([server.pid])
        elapsed, latencies = asyncio.run(post_load(urls, requests))
        cpu = cpu_s([server.pid]) - cpu
    finally:
        server.terminate()
        server.wait()
    return {
        "requests_per_s": len(latencies) / elapsed,
        "p99_ms": percentile(latencies, 99) * 1000,
        "cpu_us_per_request": cpu / len(latencies) * 1e6,
    }


def single_pings(requests: int, phones: int) -> list[list[tuple[bytes, dict[str, str]]]]:
    """The warm single-ping load of the bare floor: each phone the same body, `requests` in all."""
    ping = {"lat": CITY[0], "lng": CITY[1], "accuracy_m": 10, "ts": datetime.now(UTC).isoformat()}
    body, headers = msgspec.json.encode({"pings": [ping]}), {"Authorization": "Bearer bench"}
    return [[(body, headers)] * (requests // phones) for _ in range(phones)]


async def put_zones(http: Any, geo: str, rng: random.Random, count: int = 200) -> None:
    """A store with `count` department zones (circles of 10-100 m) within 3 km of the centre."""
    headers = {"Authorization": f"Bearer {cluster_admin()}"}
    await http.put(f"{geo}/v1/stores/bench", json={"name": "Bench", "lat": CITY[0], "lng": CITY[1]}, headers=headers)
    for i in range(count):
        lat, lng = destination(*CITY, rng.uniform(0, 360), 3_000 * math.sqrt(rng.random()))
        zone = {"kind": "department", "circle": {"lat": lat, "lng": lng, "radius_m": rng.uniform(10, 100)}}
        await http.put(f"{geo}/v1/stores/bench/zones/z{i}", json=zone, headers=headers)


PHONES_PER_ADDRESS = 1_000
"""notify registers at most 1,000 devices an hour from one address: a fleet comes from several."""


async def register_phones(notify: str, count: int, at_once: int = 16) -> list[dict[str, str]]:
    """`count` phones registered with notify, each consenting to location: their auth headers. Each
    thousand comes from an address of its own on the loopback network (127.0.0.2, 127.0.0.3, ...)."""
    import aiohttp

    gate = asyncio.Semaphore(at_once)
    consent = {"policy_version": "bench", "purposes": {"location": True}}

    async def one(http: aiohttp.ClientSession) -> dict[str, str]:
        async with gate:
            async with http.post(f"{notify}/v1/devices", json={"platform": "android", "locale": "fr"}) as r:
                assert r.status == 201, await r.text()
                d = await r.json()
            auth = {"Authorization": f"Bearer {d['token']}"}
            async with http.put(f"{notify}/v1/devices/{d['device_id']}/consents", json=consent, headers=auth) as r:
                assert r.status == 200, await r.text()
            return auth

    sessions = [
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(f"127.0.0.{2 + i}", 0)))
        for i in range(math.ceil(count / PHONES_PER_ADDRESS))
    ]
    try:
        return list(await asyncio.gather(*(one(sessions[i // PHONES_PER_ADDRESS]) for i in range(count))))
    finally:
        for session in sessions:
            await session.close()


async def drive_pings(cluster: Any, devices: int = 64) -> list[dict[str, Any]]:
    """Post pings to the cluster's geo processes (devices spread over them); return the figures."""
    import aiohttp

    rng = random.Random(7)
    figures = []
    async with aiohttp.ClientSession() as http:
        await put_zones(http, cluster.geo[0], rng)
        auths = await register_phones(cluster.notify, devices)
        await asyncio.sleep(2)  # every geo process has the zones, and geo has the consents
        # A fix a second from each phone: the 8 phones of the batches send 3.7 hours of fixes each, the
        # others 5 minutes. Every fix is in the past (one ahead of the clock would be refused, and counted
        # at a refusal's price) and within the day geo keeps.
        clock = {i: datetime.now(UTC) - timedelta(hours=5) for i in range(devices)}

        def pings_for(i: int, n: int) -> list[dict]:
            out = []
            for _ in range(n):
                clock[i] += timedelta(seconds=1)
                lat, lng = destination(*CITY, rng.uniform(0, 360), 3_000 * math.sqrt(rng.random()))
                out.append({"lat": lat, "lng": lng, "accuracy_m": 10, "ts": clock[i].isoformat()})
            return out

        async def run(batch: int, requests: int, phones: int) -> dict[str, Any]:
            per_phone = requests // phones
            bodies = [
                [msgspec.json.encode({"pings": pings_for(c, batch)}) for _ in range(per_phone)] for c in range(phones)
            ]
            urls = [cluster.geo[c % len(cluster.geo)] for c in range(phones)]
            cpu = cpu_seconds(cluster.geo_pids(), cluster.postmaster_pid())
            elapsed, latencies = await post_load(
                urls, [[(body, auths[c]) for body in bodies[c]] for c in range(phones)]
            )
            used = {
                k: v - cpu.get(k, 0.0) for k, v in cpu_seconds(cluster.geo_pids(), cluster.postmaster_pid()).items()
            }
            done = len(latencies)
            return {
                "batch": batch,
                "phones": phones,
                "pings_per_s": done / elapsed * batch,
                "requests_per_s": done / elapsed,
                "p50_ms": percentile(latencies, 50) * 1000,
                "p99_ms": percentile(latencies, 99) * 1000,
                "cpu_us": {k: v / done * 1e6 for k, v in used.items()},
            }

        await run(50, 128, phones=8)  # warm-up
        figures.append(await run(50, 2_000, phones=8))
        figures.append(await run(1, 20_000, phones=devices))
    return figures


def cluster_admin() -> str:
    from bench.cluster import ADMIN

    return ADMIN


def ingest(geo_processes: int = 1) -> list[dict[str, Any]]:
    from bench.cluster import Cluster

    with Cluster(geo_processes, ACCUEIL_REQUESTS_PER_S="1000000", ACCUEIL_REQUEST_BURST="1000000") as cluster:
        figures = asyncio.run(drive_pings(cluster))
    print(f"(b) ingest over HTTP, {geo_processes} geo process(es), persistence and presence, embedded PostgreSQL")
    for f in figures:
        per_ping = {k: v / f["batch"] for k, v in f["cpu_us"].items()}
        name = f"ingest.{geo_processes}_geo.batch_{f['batch']}"
        figure(f"{name}.pings_per_s", f["pings_per_s"], "pings/s")
        figure(f"{name}.p99", f["p99_ms"], "ms")
        for side in ("geo", "postgres"):
            figure(f"{name}.cpu_per_ping.{side}", per_ping[side], "us")
        print(
            f"    batches of {f['batch']:>2} from {f['phones']:>2} phones: {f['pings_per_s']:>9,.0f} pings/s"
            f" ({f['pings_per_s'] / geo_processes:,.0f} per geo process),"
            f" {f['requests_per_s']:>7,.0f} requests/s, p50 {f['p50_ms']:5.1f} ms, p99 {f['p99_ms']:5.1f} ms"
        )
        print(
            f"        CPU per ping: geo {per_ping['geo']:,.1f} us, postgres {per_ping['postgres']:,.1f} us,"
            f" together {per_ping['geo'] + per_ping['postgres']:,.1f} us (load generator {per_ping['client']:,.1f} us);"
            f" postgres {per_ping['postgres'] * 1000 / 1e6:.3f} CPU-s per 1,000 pings"
        )
    single = figures[-1]
    bare = bare_floor(single_pings(20_000, single["phones"]))
    share = single["requests_per_s"] / bare["requests_per_s"]
    figure(f"ingest.{geo_processes}_geo.bare_endpoint", bare["requests_per_s"], "requests/s")
    figure(f"ingest.{geo_processes}_geo.single_to_bare", share, "ratio")
    print(
        f"    the same single-ping load on a bare Litestar endpoint (nothing stored): {bare['requests_per_s']:,.0f}"
        f" requests/s, p99 {bare['p99_ms']:.1f} ms; single pings reach {share:.2f} of it"
        f" (p50 {single['p50_ms']:.1f} ms, p99 {single['p99_ms']:.1f} ms)"
    )
    print("    targets: geo and postgres together at most 25 us of CPU per ping in batches of 50;")
    print("    single pings at least 0.5 of the bare endpoint (median of three runs), with p99 under 25 ms")
    return figures


# --- (c) a cold fleet: many phones, a few fixes each ---


class ColdPhone:
    """One phone of a large fleet: it walks from a spot within 3 km of the centre, a fix every 5-15 s of
    its own clock, and uploads what it has every 10-60 s."""

    def __init__(self, headers: dict[str, str], rng: random.Random, start: datetime) -> None:
        self.headers = headers
        self._rng = rng
        self._at = destination(*CITY, rng.uniform(0, 360), 3_000 * math.sqrt(rng.random()))
        self._heading = rng.uniform(0, 360)
        self._clock = start + timedelta(seconds=rng.uniform(0, 600))

    def next_body(self, fixes: int) -> bytes:
        pings = []
        self._clock += timedelta(seconds=self._rng.uniform(10, 60))
        for _ in range(fixes):
            step = self._rng.uniform(5, 15)
            self._clock += timedelta(seconds=step)
            self._heading += self._rng.uniform(-30, 30)
            self._at = destination(*self._at, self._heading, 1.4 * step)
            pings.append({"lat": self._at[0], "lng": self._at[1], "accuracy_m": 10, "ts": self._clock.isoformat()})
        return msgspec.json.encode({"pings": pings})


def cold_requests(
    phones: list[ColdPhone], count: int, connections: int, rng: random.Random
) -> tuple[list[list[tuple[bytes, dict[str, str]]]], int]:
    """`count` uploads of 1-10 fixes from phones in random order, dealt to the connections in turn;
    (the requests of each connection, the fixes in all). A phone is never picked again while it could
    still be waiting for its last answer (within `connections` requests): a phone uploads its next
    fixes once the last ones are taken, and never twice in a row."""
    dealt: list[list[tuple[bytes, dict[str, str]]]] = [[] for _ in range(connections)]
    recent: deque[int] = deque(maxlen=connections)
    fixes = 0
    for k in range(count):
        phone = rng.randrange(len(phones))
        while phone in recent:
            phone = rng.randrange(len(phones))
        recent.append(phone)
        n = rng.randint(1, 10)
        fixes += n
        dealt[k % connections].append((phones[phone].next_body(n), phones[phone].headers))
    return dealt, fixes


async def consents_delivered(dsn: str, timeout_s: float = 600) -> None:
    """Until geo has applied every consent: a delivery still waiting would be caught up by the ping
    that finds it, and timed as the ping's work."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        deadline = time.monotonic() + timeout_s
        while await conn.fetchval("SELECT count(*) FROM bus.deliveries WHERE consumer = 'geo.consents'"):
            if time.monotonic() > deadline:
                raise RuntimeError("geo did not apply the consents in time")
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def settled(dsn: str) -> None:
    """VACUUM (ANALYZE) the services' database, as autovacuum would have by the time of a fleet's day."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("VACUUM (ANALYZE)")
    finally:
        await conn.close()


async def drive_cold(
    cluster: Any, devices: int, requests: int, connections: int
) -> tuple[dict[str, Any], list[list[tuple[bytes, dict[str, str]]]]]:
    """The cold-fleet load on the cluster: its figures, and the measured requests (for the floor)."""
    import aiohttp

    rng = random.Random(13)
    async with aiohttp.ClientSession() as http:
        await put_zones(http, cluster.geo[0], rng)
    started = time.monotonic()
    auths = await register_phones(cluster.notify, devices)
    await consents_delivered(cluster.dsn)
    print(f"    ({devices:,} phones registered and consenting in {time.monotonic() - started:.0f} s, not counted)")
    await asyncio.sleep(2)  # every geo process has the zones
    start = datetime.now(UTC) - timedelta(hours=2)
    phones = [ColdPhone(a, rng, start) for a in auths]
    urls = [cluster.geo[c % len(cluster.geo)] for c in range(connections)]
    # A fleet's phones have all been seen before: each one's first upload (which gives it its row in
    # geo) is not what the fleet sends all day, and is not counted.
    first = [(phone.next_body(1), phone.headers) for phone in phones]
    started = time.monotonic()
    await post_load(urls, [first[c::connections] for c in range(connections)])
    print(f"    (each phone's first upload, {time.monotonic() - started:.0f} s, not counted)")
    # A fleet at work has been registered for a while: autovacuum has long since cleared the bus of the
    # registrations' consent deliveries, and the planner knows the devices. Left to the first minutes,
    # those 60,000 dead deliveries made every bus round read them all (10-27 ms a statement, more than
    # half of PostgreSQL's CPU in the measured phase), which a fleet pays only after a burst.
    await settled(cluster.dsn)
    warm_up, _ = cold_requests(phones, 1_000, connections, rng)
    measured, fixes = cold_requests(phones, requests, connections, rng)
    await post_load(urls, warm_up)
    cpu = cpu_seconds(cluster.geo_pids(), cluster.postmaster_pid())
    elapsed, latencies = await post_load(urls, measured)
    used = {k: v - cpu[k] for k, v in cpu_seconds(cluster.geo_pids(), cluster.postmaster_pid()).items()}
    done = len(latencies)
    return {
        "devices": devices,
        "connections": connections,
        "fixes_per_request": fixes / done,
        "pings_per_s": fixes / elapsed,
        "requests_per_s": done / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "cpu_us_per_request": {k: v / done * 1e6 for k, v in used.items()},
        "cpu_us_per_ping": {k: v / fixes * 1e6 for k, v in used.items()},
    }, measured


def cold(
    geo_processes: int = 1, devices: int = 20_000, requests: int = 20_000, connections: int = 64
) -> dict[str, Any]:
    from bench.cluster import Cluster

    env = {"ACCUEIL_REQUESTS_PER_S": "1000000", "ACCUEIL_REQUEST_BURST": "1000000"}
    print(
        f"(c) a cold fleet over HTTP, {geo_processes} geo process(es): {devices:,} phones, {requests:,} uploads of"
        f" 1-10 fixes over {connections} connections, in random phone order (never one phone twice in a row,"
        " nor while it waits for its answer)"
    )
    with Cluster(geo_processes, **env) as cluster:
        f, measured = asyncio.run(drive_cold(cluster, devices, requests, connections))
    bare = bare_floor(measured)
    share = f["requests_per_s"] / bare["requests_per_s"]
    name = f"ingest.{geo_processes}_geo.cold"
    figure(f"{name}.pings_per_s", f["pings_per_s"], "pings/s")
    figure(f"{name}.requests_per_s", f["requests_per_s"], "requests/s")
    figure(f"{name}.p99", f["p99_ms"], "ms")
    figure(f"{name}.bare_endpoint", bare["requests_per_s"], "requests/s")
    figure(f"{name}.to_bare", share, "ratio")
    for per in ("request", "ping"):
        cpu = f[f"cpu_us_per_{per}"]
        for side in ("geo", "postgres"):
            figure(f"{name}.cpu_per_{per}.{side}", cpu[side], "us")
        figure(f"{name}.cpu_per_{per}.together", cpu["geo"] + cpu["postgres"], "us")
    print(
        f"    {f['pings_per_s']:,.0f} pings/s, {f['requests_per_s']:,.0f} requests/s"
        f" ({f['pings_per_s'] / geo_processes:,.0f} pings/s and {f['requests_per_s'] / geo_processes:,.0f}"
        f" requests/s per geo process), {f['fixes_per_request']:.1f} fixes a request,"
        f" p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms"
    )
    for per in ("request", "ping"):
        cpu = f[f"cpu_us_per_{per}"]
        print(
            f"        CPU per {per + ':':<8} geo {cpu['geo']:7,.1f} us, postgres {cpu['postgres']:6,.1f} us,"
            f" together {cpu['geo'] + cpu['postgres']:7,.1f} us (load generator {cpu['client']:,.1f} us)"
        )
    print(
        f"    the same uploads on a bare Litestar endpoint (nothing stored): {bare['requests_per_s']:,.0f} requests/s,"
        f" p99 {bare['p99_ms']:.1f} ms, {bare['cpu_us_per_request']:,.0f} us of its CPU a request;"
        f" the cold fleet reaches {share:.2f} of it"
    )
    return f


if __name__ == "__main__":
    parts = [a for a in sys.argv[1:] if not a.isdigit()] or ["resolve", "ingest", "cold"]
    devices = next((int(a) for a in sys.argv[1:] if a.isdigit()), 20_000)
    if "resolve" in parts:
        resolve()
    if "ingest" in parts:
        ingest(1)
    if "ingest2" in parts:
        ingest(2)
    if "cold" in parts:
        cold(1, devices)
