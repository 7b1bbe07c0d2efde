"""Ping to push: the wait a shopper feels, from geo's answer to the ping that puts them in the store
to the push service receiving their offer. Prints figures, asserts nothing.

    python bench/notify.py latency [SHOPPERS] [--pings-per-s N]

Starts the three services as separate `accueil serve` processes on an embedded PostgreSQL in a
temporary folder (bench/cluster.py), and the tests' Web Push stand-in in a process of its own
(bench/push_standin.py), which notes when each push reaches it. Seeds a store with a zone, a product
in stock and a campaign on entering the zone; shoppers have the location and offers consents, a Web
Push subscription to that push service, and a time zone where it is midday (outside quiet hours).

Then twice, alone and under load, SHOPPERS shoppers (default 300) walk in, ten a second, whatever
the earlier ones' offers are doing (as shoppers walk into stores: a slow offer does not slow the next
shopper down), each with one upload of their walk that ends in the zone. For each, the time from the
answer to that upload (taken in this process) to the push reaching the push service (taken there;
both are CLOCK_MONOTONIC, one clock for the whole machine). Under load, other phones post batches of
50 fixes that enter no zone, at --pings-per-s (default 10,000) from a process of their own
(bench/ping_load.py), for the whole phase; the rate they achieved and each process's CPU are printed.

Where the time goes, from the timestamps along the path (wall clock, PostgreSQL's and ours): the
event's `created_at` (geo's transaction began), geo's answer, the message's `decided_at` (notify's bus
worker began the transaction that claims the event and decides), its first delivery attempt's
`started_at` (the sender began the transaction that claims it), the push's arrival. PostgreSQL's
`now()` is when the transaction began, not when the statement ran.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import msgspec  # noqa: E402
import psutil  # noqa: E402

from bench.cluster import ADMIN, Cluster  # noqa: E402
from bench.http_client import Connection  # noqa: E402
from bench.measure import cpu_s  # noqa: E402
from bench.push_standin import StandIn  # noqa: E402
from bench.report import figure  # noqa: E402
from shared.db import connect  # noqa: E402
from tests.support.builders import STORE, TEXTS, timezone_at, walk_in  # noqa: E402

HERE = Path(__file__).resolve().parent
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
WALK_INS_PER_S = 10
WARM_UP = 10
LOAD_PHONES = 200  # each posts a batch of 50 fixes every 200 * 50 / rate seconds: once a second at 10,000/s
TARGET_P99_MS = 100
BUSY_MACHINE = 0.2  # cores used by processes other than these: above it, the figures say more about them


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile: the value that p % of them do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ------------------------------------------------------------------------------- other processes


class PingLoad:
    """bench/ping_load.py: other phones' pings, from their own process."""

    def __init__(self, geo: str, tokens: list[str], pings_per_s: float, max_s: float) -> None:
        self._args = (geo, str(pings_per_s), str(max_s))
        self._tokens = tokens
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    async def __aenter__(self) -> PingLoad:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "ping_load.py"),
            *self._args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(msgspec.json.encode(self._tokens) + b"\n")
        assert msgspec.json.decode(await self._proc.stdout.readline())["kind"] == "ready"
        return self

    async def mark(self) -> dict[str, Any]:
        """Pings accepted and errors so far, and when."""
        assert self._proc is not None and self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(b"mark\n")
        return dict(msgspec.json.decode(await self._proc.stdout.readline()))

    async def __aexit__(self, *_: object) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.close()
        await self._proc.wait()


class CpuMeter:
    """CPU seconds used by named groups of processes since `start` (PostgreSQL's with its backends),
    and by everything else on the machine."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self._groups = groups
        self._start: dict[str, float] = {}
        self._start_machine = self._t = 0.0

    def _used(self, name: str) -> float:
        return cpu_s(self._groups[name], children=name == "postgres")

    @staticmethod
    def _machine() -> float:
        """CPU seconds every process on the machine has used, whoever they belong to."""
        t = psutil.cpu_times()
        return float(
            sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)
        )

    def start(self) -> None:
        self._start = {name: self._used(name) for name in self._groups}
        self._start_machine, self._t = self._machine(), time.monotonic()

    def cores(self) -> dict[str, float]:
        """Each group's CPU since `start`, in cores (CPU seconds per second), and that of every other
        process on the machine ("others"; a benchmark's figures mean little while it is high)."""
        elapsed = time.monotonic() - self._t
        used = {name: (self._used(name) - self._start[name]) / elapsed for name in self._groups}
        used["others"] = max(0.0, (self._machine() - self._start_machine) / elapsed - sum(used.values()))
        return used


# --------------------------------------------------------------------------------------- setup


@dataclass
class Shopper:
    device_id: str
    token: str
    endpoint: str
    body: bytes = b""
    sent: float = 0.0  # time.monotonic() as the upload went out
    answered: float = 0.0  # time.monotonic() when geo's answer was read
    answered_wall: float = 0.0
    entered: list[dict[str, Any]] = field(default_factory=list)


async def seed(http: httpx.AsyncClient, cluster: Cluster) -> None:
    """The store with its zone, yoghurt in stock there as notify's replica has it, and the campaign."""
    geo, inventory, notify = cluster.geo[0], cluster.inventory, cluster.notify
    r = await http.put(f"{geo}/v1/stores/rivoli", json=STORE, headers=ADMIN_AUTH)
    r.raise_for_status()
    zone = {"kind": "store", "circle": {"lat": STORE["lat"], "lng": STORE["lng"], "radius_m": 60}}
    (await http.put(f"{geo}/v1/stores/rivoli/zones/main", json=zone, headers=ADMIN_AUTH)).raise_for_status()
    product = {"name": "Yaourt nature", "category": "dairy"}
    (await http.put(f"{inventory}/v1/products/YOG-1", json=product, headers=ADMIN_AUTH)).raise_for_status()
    stock = {"on_hand": 1_000_000}
    (await http.put(f"{inventory}/v1/stores/rivoli/stock/YOG-1", json=stock, headers=ADMIN_AUTH)).raise_for_status()
    conn = await connect(cluster.dsn)
    try:
        deadline = time.monotonic() + 30
        query = "SELECT available FROM notify.stock WHERE store_id = 'rivoli' AND sku = 'YOG-1'"
        while await conn.fetchval(query) != 1_000_000:
            if time.monotonic() > deadline:
                raise RuntimeError("notify's replica never had the stock")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    # A campaign names a product notify knows: once its replica has it.
    campaign = {"trigger": {"type": "zone.entered", "zone_kind": "store"}, "sku": "YOG-1", "message": TEXTS}
    (await http.put(f"{notify}/v1/campaigns/welcome", json=campaign, headers=ADMIN_AUTH)).raise_for_status()


async def register(
    http: httpx.AsyncClient, notify: str, count: int, purposes: dict[str, bool], platform: str
) -> list[tuple[str, str]]:
    """`count` devices with these consents, eight registrations at a time: (device_id, token) each."""
    gate = asyncio.Semaphore(8)

    async def one() -> tuple[str, str]:
        async with gate:
            r = await http.post(
                f"{notify}/v1/devices", json={"platform": platform, "locale": "fr-FR", "timezone": timezone_at(12)}
            )
            r.raise_for_status()
            device_id, token = r.json()["device_id"], r.json()["token"]
            consents = {"policy_version": "bench", "purposes": purposes}
            auth = {"Authorization": f"Bearer {token}"}
            (
                await http.put(f"{notify}/v1/devices/{device_id}/consents", json=consents, headers=auth)
            ).raise_for_status()
            return device_id, token

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def shoppers(http: httpx.AsyncClient, notify: str, push: StandIn, count: int) -> list[Shopper]:
    """Shoppers with the location and offers consents, each subscribed to the push receiver."""
    devices = await register(http, notify, count, {"location": True, "offers": True}, "web")
    key = (await http.get(f"{notify}/v1/vapid-public-key")).json()["public_key"]
    subscriptions = await push.subscriptions(key, count)
    gate = asyncio.Semaphore(8)

    async def subscribe(device_id: str, token: str, subscription: dict[str, Any]) -> Shopper:
        async with gate:
            r = await http.put(
                f"{notify}/v1/devices/{device_id}/push-subscription",
                json=subscription,
                headers={"Authorization": f"Bearer {token}"},
            )
            r.raise_for_status()
        return Shopper(device_id, token, subscription["endpoint"])

    return list(await asyncio.gather(*(subscribe(d, t, s) for (d, t), s in zip(devices, subscriptions, strict=True))))


# ------------------------------------------------------------------------------------- measure


async def walk_in_all(geo: str, people: list[Shopper], per_s: float) -> None:
    """Each shopper uploads their walk into the store at their turn, `per_s` a second, on one of a few
    connections, without waiting for anyone's offer."""
    for who in people:
        who.body = msgspec.json.encode({"pings": walk_in()})
    connections: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(8):
        connections.put_nowait(await Connection.open(geo))

    async def walk(who: Shopper) -> None:
        connection = await connections.get()
        try:
            who.sent = time.monotonic()
            status, answer = await connection.post_json("/v1/pings", who.body, {"Authorization": f"Bearer {who.token}"})
            who.answered, who.answered_wall = time.monotonic(), time.time()
        finally:
            connections.put_nowait(connection)
        assert status == 200, answer
        who.entered = [e for e in msgspec.json.decode(answer)["events"] if e["type"] == "zone.entered"]

    started = time.monotonic()
    walks = []
    for i, who in enumerate(people):
        await asyncio.sleep(max(0.0, started + i / per_s - time.monotonic()))
        walks.append(asyncio.create_task(walk(who)))
    await asyncio.gather(*walks)
    while not connections.empty():
        await connections.get_nowait().close()


async def path_of(dsn: str, people: list[Shopper]) -> dict[str, dict[str, float]]:
    """The timestamps PostgreSQL has along each shopper's path, in seconds since the epoch, by device."""
    conn = await connect(dsn)
    try:
        rows = await conn.fetch(
            """
            SELECT m.device_id,
                   extract(epoch FROM e.created_at)::float8 AS created,
                   extract(epoch FROM m.decided_at)::float8 AS decided,
                   extract(epoch FROM a.started_at)::float8 AS claimed,
                   extract(epoch FROM m.sent_at)::float8 AS settled
            FROM notify.messages m
            JOIN bus.events e ON e.id = m.event_id
            JOIN notify.delivery_attempts a ON a.message_id = m.id AND a.attempt = 1
            WHERE m.device_id = ANY ($1::text[])
            """,
            [p.device_id for p in people],
        )
    finally:
        await conn.close()
    return {r["device_id"]: dict(r) for r in rows}


async def arrivals_of(push: StandIn, people: list[Shopper], timeout_s: float = 15) -> dict[str, dict[str, float]]:
    """When each shopper's push reached the push service, by endpoint, once all have (or the time is up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        arrivals = await push.arrivals()
        if all(p.endpoint in arrivals for p in people) or time.monotonic() > deadline:
            return arrivals
        await asyncio.sleep(0.2)


def report(
    name: str, arrivals: dict[str, dict[str, float]], people: list[Shopper], path: dict[str, dict[str, float]]
) -> dict[str, float]:
    entered = sum(1 for p in people if p.entered)
    arrived = [p for p in people if p.endpoint in arrivals]
    ms = [(arrivals[p.endpoint]["mono"] - p.answered) * 1000 for p in arrived]
    p50, p99 = percentile(ms, 50), percentile(ms, 99)
    figure(f"latency.{name}.ping_to_push_p50", p50, "ms")
    figure(f"latency.{name}.ping_to_push_p99", p99, "ms")
    figure(f"latency.{name}.ping_to_push_max", max(ms), "ms")
    print(
        f"    ping answered -> push received, {len(ms)} shoppers ({entered} entered the zone, "
        f"{len(people) - len(arrived)} pushes missing): p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(ms):.1f} ms,"
        f" mean {statistics.fmean(ms):.1f} ms; target p99 < {TARGET_P99_MS} ms under load"
    )
    took = [(p.answered - p.sent) * 1000 for p in people]
    print(f"    geo answered the walk-ins in p50 {percentile(took, 50):.1f} ms, p99 {percentile(took, 99):.1f} ms")
    legs: dict[str, list[float]] = {}
    for p in arrived:
        at = path.get(p.device_id)
        if at is None:
            continue
        received = arrivals[p.endpoint]["wall"]
        for leg, start, end in (
            ("geo's transaction began -> answer read", at["created"], p.answered_wall),
            ("answer -> bus worker claims the event", p.answered_wall, at["decided"]),
            ("-> sender claims the message", at["decided"], at["claimed"]),
            ("-> push received", at["claimed"], received),
            ("(push received -> settled as sent)", received, at["settled"]),
        ):
            if end is not None:  # a message is settled just after its push arrived: maybe not yet
                legs.setdefault(leg, []).append((end - start) * 1000)
    print(
        "    where the time goes (p50 and p99 of each leg, ms; wall clocks; PostgreSQL's now() is when a"
        " transaction began):"
    )
    for leg, values in legs.items():
        print(f"        {leg:<42} p50 {percentile(values, 50):7.1f}   p99 {percentile(values, 99):7.1f}")
        figure(
            f"latency.{name}.leg.{leg.split('-> ')[-1].strip('()').replace(' ', '_')}_p50", percentile(values, 50), "ms"
        )
    return {"p50": p50, "p99": p99}


def print_cpu(cores: dict[str, float]) -> None:
    print("    CPU meanwhile, in cores: " + ", ".join(f"{name} {used:.2f}" for name, used in cores.items()))
    if cores["others"] > BUSY_MACHINE:
        print(
            f"    NOTE: other work on this machine took {cores['others']:.2f} of its {psutil.cpu_count()} cores"
            " meanwhile: these latencies are partly theirs"
        )


async def phase(
    name: str, cluster: Cluster, push: StandIn, people: list[Shopper], meter: CpuMeter, load: PingLoad | None
) -> dict[str, float]:
    warm, measured = people[:WARM_UP], people[WARM_UP:]
    await walk_in_all(cluster.geo[0], warm, WALK_INS_PER_S)
    await arrivals_of(push, warm)
    before = await load.mark() if load else None
    meter.start()
    await walk_in_all(cluster.geo[0], measured, WALK_INS_PER_S)
    arrivals = await arrivals_of(push, measured)
    cores = meter.cores()
    print(f"({name}) {len(measured)} shoppers walk in, {WALK_INS_PER_S} a second")
    print_cpu(cores)
    if load is not None and before is not None:
        after = await load.mark()
        rate = (after["pings"] - before["pings"]) / (after["mono"] - before["mono"])
        figure(f"latency.{name}.load_pings_per_s", rate, "pings/s")
        print(
            f"    other phones' load achieved: {rate:,.0f} pings/s accepted ({LOAD_PHONES} phones, batches of 50;"
            f" {after['errors'] - before['errors']} answers other than 200); geo answered them in"
            f" p50 {after['p50_ms']:.1f} ms, p99 {after['p99_ms']:.1f} ms; CPU per ping:"
            f" geo {cores['geo'] / rate * 1e6:.0f} us, PostgreSQL {cores['postgres'] / rate * 1e6:.0f} us"
        )
    return report(name, arrivals, measured, await path_of(cluster.dsn, measured))


async def bench(count: int, pings_per_s: float) -> None:
    push = StandIn()
    try:
        env = {"ACCUEIL_PUSH_HOSTS": push.host, "ACCUEIL_REGISTRATIONS_PER_HOUR": "1000"}
        with Cluster(**env) as cluster:
            async with httpx.AsyncClient(timeout=30) as http:
                await seed(http, cluster)
                alone = await shoppers(http, cluster.notify, push, WARM_UP + count)
                loaded = await shoppers(http, cluster.notify, push, WARM_UP + count)
                phones = await register(http, cluster.notify, LOAD_PHONES, {"location": True}, "android")
            groups: dict[str, list[int]] = {
                **cluster.service_pids(),
                "postgres": [cluster.postmaster_pid() or 0],
                "push service": [push.proc.pid],
                "this script": [psutil.Process().pid],
            }
            await asyncio.sleep(2)  # geo has had the consents through the bus
            results = {"alone": await phase("alone", cluster, push, alone, CpuMeter(groups), None)}
            budget_s = 30 + (WARM_UP + count) / WALK_INS_PER_S * 2
            async with PingLoad(cluster.geo[0], [t for _, t in phones], pings_per_s, budget_s) as load:
                meter = CpuMeter({**groups, "load generator": [load.pid]})
                await asyncio.sleep(3)  # the load reaches its pace
                results["under_load"] = await phase("under_load", cluster, push, loaded, meter, load)
    finally:
        await push.close()
    print(
        f"ping -> push: alone p50 {results['alone']['p50']:.1f} ms, p99 {results['alone']['p99']:.1f} ms;"
        f" under load p50 {results['under_load']['p50']:.1f} ms, p99 {results['under_load']['p99']:.1f} ms"
        f" (target p99 < {TARGET_P99_MS} ms: {'met' if results['under_load']['p99'] < TARGET_P99_MS else 'NOT met'})"
    )


def main(args: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python bench/notify.py latency", description=__doc__.split("\n\n")[0])
    parser.add_argument("shoppers", nargs="?", type=int, default=300, help="measured shoppers in each phase")
    parser.add_argument("--pings-per-s", type=float, default=10_000, help="the other phones' load")
    options = parser.parse_args(args)
    asyncio.run(bench(options.shoppers, options.pings_per_s))


if __name__ == "__main__":
    main(sys.argv[1:])
