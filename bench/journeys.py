"""Journeys: how fast one notify process walks devices through a journey, and what a journey's results
cost at 100,000 enrollments. Prints figures, asserts nothing.

    python bench/journeys.py                    # both parts
    python bench/journeys.py move [DEVICES]     # (a), 20,000 devices by default
    python bench/journeys.py results            # (b)

Both start the three services as separate `accueil serve` processes on an embedded PostgreSQL in a
temporary folder (bench/cluster.py), with pg_stat_statements loaded; a store, a product in stock there
(through geo and inventory, so notify's replicas have them) and the journey (through notify's HTTP API).

(a) The journey: enter on zone.entered at the store -> `look`, wait PT10M -> `stock`, branch on the
    product in stock -> `offer`, an offers message about it -> `end`, exit; 10 % held out. DEVICES
    devices consent to location and offers and have no push target: their messages are decided
    (consent, product, arm) and logged suppressed `no_subscription` (or `holdout`), so no sender
    delivers anything while the runner is measured. 500 devices walk it first, untimed.
    Entry: one zone.entered event per device is written to the bus in one transaction; from its
    commit until every device is parked at `look`: notify's consumers take the events (each device
    entered) and its journey runner runs the first step. Walk: the ten minutes are made to pass at once
    (every parked enrollment's `wake_at` set to now, with the runners' NOTIFY, in one transaction);
    from its commit until every device has left: the runner alone, in rounds of up to 200, each
    enrollment moved through the branch and the message to the exit. For each phase: the rate, and
    the CPU per device of the notify process and of PostgreSQL (its backends), counted from the
    phase's start to its end, and what the other processes on the machine took meanwhile; for the
    walk, the statements PostgreSQL ran per move (pg_stat_statements).
(b) Two journeys' enrollments in SQL: 100,000 in the one asked about and 200,000 in another, with the
    steps they reached and their messages (a tenth held out; still in it, left on an exit event or a
    consent withdrawal, completed by three paths; messages sent, suppressed for four reasons, held,
    failed or pending; about 11 % converted), and 200,000 campaign messages beside them. Then
    GET /v1/journeys/{id}/results over HTTP, 3 calls untimed and 21 timed (median, min, max), with the
    time PostgreSQL spent in each statement meanwhile (pg_stat_statements), and each count statement's
    plan under EXPLAIN ANALYZE.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import msgspec  # noqa: E402
import psutil  # noqa: E402

from bench.cluster import ADMIN, Cluster  # noqa: E402
from bench.latency import CpuMeter, print_cpu  # noqa: E402
from bench.report import figure  # noqa: E402
from services.notify.journeys import repository as journeys_repo  # noqa: E402
from services.notify.journeys.service import ALL_TIME  # noqa: E402
from shared import bus  # noqa: E402
from shared.db import connect  # noqa: E402
from shared.events import ZoneEntered, ZoneEnteredData, ZoneRef  # noqa: E402
from tests.support.builders import STORE, TEXTS, timezone_at  # noqa: E402

ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
DEVICES = 20_000
WARM_UP = 500
POLL_S = 0.1

JOURNEY = {
    "name": "Yoghurt nudge",
    "entry": {"event": "zone.entered", "store_id": "rivoli", "zone_kind": "store"},
    "holdout_percent": 10,
    "goal": {"event": "order.reserved", "within": "PT2H", "sku": "YOG-1"},
    "steps": [
        {"id": "look", "type": "wait", "for": "PT10M", "next": "stock"},
        {"id": "stock", "type": "branch", "if": {"in_stock": "YOG-1"}, "then": "offer", "else": "end"},
        {"id": "offer", "type": "message", "purpose": "offers", "sku": "YOG-1", "message": TEXTS, "next": "end"},
        {"id": "end", "type": "exit"},
    ],
}
"""(a): walked by every device."""

RESULTS_JOURNEY = {
    "name": "Yoghurt, then a reminder",
    "entry": {"event": "zone.entered", "zone_kind": "store"},
    "holdout_percent": 10,
    "goal": {"event": "order.reserved", "within": "PT2H", "sku": "YOG-1"},
    "exit_on": ["order.collected"],
    "steps": [
        {"id": "look", "type": "wait", "for": "PT5M", "next": "stock"},
        {"id": "stock", "type": "branch", "if": {"in_stock": "YOG-1"}, "then": "offer", "else": "end"},
        {"id": "offer", "type": "message", "purpose": "offers", "sku": "YOG-1", "message": TEXTS, "next": "order"},
        {
            "id": "order",
            "type": "wait_for",
            "event": "order.reserved",
            "timeout": "PT1H",
            "next": "end",
            "timeout_next": "reminder",
        },
        {"id": "reminder", "type": "message", "purpose": "offers", "sku": "YOG-1", "message": TEXTS, "next": "end"},
        {"id": "end", "type": "exit"},
    ],
}
"""(b): the journey whose results are asked for, and the other one beside it."""


# ------------------------------------------------------------------------------------- set-up


async def seed_shop(http: httpx.AsyncClient, cluster: Cluster) -> None:
    """The store (notify's replica has its time zone) and yoghurt in stock there (the journeys' branch
    and message read notify's replica of both)."""
    r = await http.put(f"{cluster.geo[0]}/v1/stores/rivoli", json=STORE, headers=ADMIN_AUTH)
    r.raise_for_status()
    product = {"name": "Yaourt nature", "category": "dairy"}
    r = await http.put(f"{cluster.inventory}/v1/products/YOG-1", json=product, headers=ADMIN_AUTH)
    r.raise_for_status()
    stock = {"on_hand": 1_000_000}
    r = await http.put(f"{cluster.inventory}/v1/stores/rivoli/stock/YOG-1", json=stock, headers=ADMIN_AUTH)
    r.raise_for_status()
    conn = await connect(cluster.dsn)
    try:
        query = """
            SELECT (SELECT available FROM notify.stock WHERE store_id = 'rivoli' AND sku = 'YOG-1') = 1000000
                   AND EXISTS (SELECT FROM notify.stores WHERE store_id = 'rivoli')
            """
        deadline = time.monotonic() + 30
        while not await conn.fetchval(query):
            if time.monotonic() > deadline:
                raise RuntimeError("notify's replicas never had the store and its stock")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def put_journey(http: httpx.AsyncClient, cluster: Cluster, journey_id: str, body: dict[str, Any]) -> None:
    r = await http.put(f"{cluster.notify}/v1/journeys/{journey_id}", json=body, headers=ADMIN_AUTH)
    if r.status_code != 200:
        raise RuntimeError(f"PUT journey {journey_id}: {r.status_code} {r.text}")


def groups_of(cluster: Cluster) -> dict[str, list[int]]:
    return {
        **cluster.service_pids(),
        "postgres": [cluster.postmaster_pid() or 0],
        "this script": [psutil.Process().pid],
    }


# ------------------------------------------------------------------------ (a) moving enrollments


async def add_devices(conn: asyncpg.Connection, prefix: str, count: int) -> list[str]:
    """Devices consenting to location and offers, where it is midday, with no push target."""
    ids = [f"{prefix}-{i}" for i in range(count)]
    await conn.execute(
        "INSERT INTO notify.devices (device_id, platform, locale, timezone)"
        " SELECT unnest($1::text[]), 'web', 'fr-FR', $2",
        ids,
        timezone_at(12),
    )
    await conn.execute(
        """
        INSERT INTO notify.consents (device_id, location, offers, policy_version)
        SELECT unnest($1::text[]), true, true, 'bench'
        """,
        ids,
    )
    return ids


def entering(device_ids: list[str]) -> list[ZoneEntered]:
    now = datetime.now(UTC)
    data = ZoneEnteredData(kind="store", confidence=0.9, via="gps", zones=[ZoneRef("rivoli", "main")])
    return [ZoneEntered(ts=now, device_id=d, store_id="rivoli", zone_id="main", data=data) for d in device_ids]


async def wait_until(conn: asyncpg.Connection, query: str, wanted: int, timeout_s: float) -> float:
    """Polls `query` (a count) until it is `wanted`; returns time.perf_counter() then."""
    deadline = time.monotonic() + timeout_s
    while (got := await conn.fetchval(query)) != wanted:
        if time.monotonic() > deadline:
            raise RuntimeError(f"after {timeout_s:.0f} s, {got} of {wanted}: {query.strip()}")
        await asyncio.sleep(POLL_S)
    return time.perf_counter()


PARKED = """
    SELECT count(*) FROM notify.enrollments
    WHERE exited_at IS NULL AND ran AND step = 'look' AND wake_at > now() + interval '1 minute'
    """
LIVE = "SELECT count(*) FROM notify.enrollments WHERE exited_at IS NULL"


async def enter(conn: asyncpg.Connection, device_ids: list[str], meter: CpuMeter | None) -> float:
    """Every device's zone.entered on the bus in one transaction; the meter starts before its commit.
    Seconds from the commit until every one of them is parked at `look`."""
    async with conn.transaction():
        await bus.publish(conn, "geo", entering(device_ids), read_back=False)
        await conn.execute("SELECT pg_stat_statements_reset()")
        if meter is not None:
            meter.start()
        started = time.perf_counter()
    return await wait_until(conn, PARKED, len(device_ids), 600) - started


async def walk(conn: asyncpg.Connection, count: int, meter: CpuMeter | None) -> float:
    """The wait over for every parked device at once; seconds from that commit until all have left."""
    async with conn.transaction():
        woken = await conn.execute("UPDATE notify.enrollments SET wake_at = now() WHERE exited_at IS NULL AND ran")
        assert woken == f"UPDATE {count}", woken
        await conn.execute("SELECT pg_notify($1, '')", journeys_repo.WAKE_CHANNEL)
        await conn.execute("SELECT pg_stat_statements_reset()")
        if meter is not None:
            meter.start()
        started = time.perf_counter()
    return await wait_until(conn, LIVE, 0, 600) - started


def per_device(cores: dict[str, float], elapsed: float, count: int) -> dict[str, float]:
    """µs of CPU per device, by group, from the cores each used over the phase."""
    return {name: used * elapsed / count * 1e6 for name, used in cores.items()}


def report_phase(name: str, what: str, count: int, elapsed: float, cores: dict[str, float]) -> None:
    rate = figure(f"journeys.{name}.per_s", count / elapsed, f"{what}/s")
    us = per_device(cores, elapsed, count)
    figure(f"journeys.{name}.notify_cpu_us", us["notify"], "us")
    figure(f"journeys.{name}.postgres_cpu_us", us["postgres"], "us")
    print(
        f"    {count:,} {what} in {elapsed:.1f} s: {rate:,.0f}/s; CPU per one: notify {us['notify']:,.0f} µs,"
        f" PostgreSQL {us['postgres']:,.0f} µs, together {us['notify'] + us['postgres']:,.0f} µs"
        f" (notify busy {cores['notify']:.0%} of a core, PostgreSQL {cores['postgres']:.2f} cores)"
    )
    print_cpu(cores)


def one_line(query: str) -> str:
    return re.sub(r"\s+", " ", query).strip()


async def statements_per(conn: asyncpg.Connection, name: str, what: str, count: int, top: int) -> None:
    """What PostgreSQL ran since the phase began, by statement: per device, and its share of their time."""
    rows = await conn.fetch(
        """
        SELECT query, calls, total_exec_time, rows
        FROM pg_stat_statements
        WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT ILIKE 'SELECT count(*) FROM notify.enrollments%'
        ORDER BY calls DESC
        """
    )
    total_ms = sum(r["total_exec_time"] for r in rows)
    calls = sum(r["calls"] for r in rows)
    figure(f"journeys.{name}.statements", calls / count, f"statements per {what}")
    print(
        f"    PostgreSQL ran {calls / count:.1f} statements per {what} ({calls:,} in all), executing them"
        f" {total_ms * 1000 / count:.0f} µs per {what}; the most frequent:"
    )
    for r in rows[:top]:
        print(
            f"      {r['calls'] / count:5.2f} {r['total_exec_time'] * 1000 / r['calls']:6.0f} µs each"
            f" {r['total_exec_time'] / total_ms:4.0%}  {one_line(r['query'])[:110]}"
        )


async def walked(conn: asyncpg.Connection, device_ids: list[str]) -> dict[str, Any]:
    """What became of these devices' enrollments: their messages and exits, and the runner's rounds."""
    messages = await conn.fetch(
        """
        SELECT m.status, coalesce(m.reason, '') AS reason, count(*) AS n
        FROM notify.messages m JOIN notify.enrollments e USING (enrollment_id)
        WHERE e.device_id = ANY ($1::text[]) GROUP BY 1, 2 ORDER BY 3 DESC
        """,
        device_ids,
    )
    exits = await conn.fetch(
        """
        SELECT exit_reason, step, count(*) AS n FROM notify.enrollments
        WHERE device_id = ANY ($1::text[]) GROUP BY 1, 2
        """,
        device_ids,
    )
    rounds = await conn.fetchval(
        """
        SELECT count(DISTINCT s.reached_at)
        FROM notify.enrollment_steps s JOIN notify.enrollments e USING (enrollment_id)
        WHERE e.device_id = ANY ($1::text[]) AND s.step = 'stock'
        """,
        device_ids,
    )
    return {
        "messages": {f"{r['status']}{' ' + r['reason'] if r['reason'] else ''}": r["n"] for r in messages},
        "exits": {f"{r['exit_reason']} at {r['step']}": r["n"] for r in exits},
        "rounds": rounds,
    }


async def bench_move(count: int) -> None:
    with Cluster(statements=True) as cluster:
        async with httpx.AsyncClient(timeout=30) as http:
            await seed_shop(http, cluster)
            await put_journey(http, cluster, "nudge", JOURNEY)
        conn = await connect(cluster.dsn)
        try:
            warm = await add_devices(conn, "warm", WARM_UP)
            devices = await add_devices(conn, "bench", count)
            await conn.execute("ANALYZE")
            await enter(conn, warm, None)  # untimed: connections opened, code paths run once
            await walk(conn, WARM_UP, None)
            meter = CpuMeter(groups_of(cluster))
            print(
                f"(a) one notify process, {count:,} devices through zone.entered -> wait -> in stock? -> offer -> exit"
                " (no push target: messages suppressed no_subscription, or holdout)"
            )
            print("  entry: the bus's events taken by notify's consumers, each device entered and its wait begun")
            elapsed = await enter(conn, devices, meter)
            report_phase("entry", "entries", count, elapsed, meter.cores())
            await statements_per(conn, "entry", "entry", count, 30)
            print("  walk: the runner alone, the wait over for all at once, each moved to its exit")
            elapsed = await walk(conn, count, meter)
            cores = meter.cores()
            report_phase("walk", "moves", count, elapsed, cores)
            outcome = await walked(conn, devices)
            print(
                f"    in {outcome['rounds']} rounds ({count / max(outcome['rounds'], 1):.0f} moves each);"
                f" exits {outcome['exits']}; messages {outcome['messages']}"
            )
            await statements_per(conn, "walk", "move", count, 12)
        finally:
            await conn.close()


# ------------------------------------------------------------------------------ (b) results


SEED_ENROLLMENTS = """
CREATE TEMP TABLE fates (lo int, hi int, step text, exit_reason text, awaiting text, reached text[]);
INSERT INTO fates VALUES
    (0, 50, 'look', NULL, NULL, '{look}'),                                   -- still waiting
    (50, 100, 'order', NULL, 'order.reserved', '{look,stock,offer,order}'),  -- still waiting for an order
    (100, 130, 'order', 'exit_event', NULL, '{look,stock,offer,order}'),
    (130, 150, 'look', 'consent_withdrawn', NULL, '{look}'),
    (150, 250, 'end', 'completed', NULL, '{look,stock,end}'),                -- out of stock
    (250, 450, 'end', 'completed', NULL, '{look,stock,offer,order,end}'),    -- ordered
    (450, 1000, 'end', 'completed', NULL, '{look,stock,offer,order,reminder,end}');
"""

SEED_JOURNEY = """
WITH seeded AS (
    SELECT i, $4::bigint + i AS event_id, CASE WHEN i % 10 = 0 THEN 'control' ELSE 'treatment' END AS arm,
           $2::timestamptz + make_interval(secs => i * $5::float8) AS t, (i * 7919) % 1000 AS r,
           (i * 104729) % 100 AS u
    FROM generate_series(1::bigint, $3) AS i
)
INSERT INTO notify.enrollments (journey_id, version, device_id, arm, store_id, entry_event_id, entered_at, step, ran,
                                wake_at, awaiting, goal_until, converted_at, exited_at, exit_reason)
SELECT $1, 1, $1 || '-' || i, arm, 's' || (i % 10), event_id, t, f.step, true,
       CASE WHEN f.exit_reason IS NULL THEN now() + interval '5 minutes' END, f.awaiting, t + interval '2 hours',
       CASE WHEN u < CASE arm WHEN 'control' THEN 9 ELSE 12 END THEN t + interval '40 minutes' END,
       CASE WHEN f.exit_reason IS NOT NULL THEN t + interval '70 minutes' END, f.exit_reason
FROM seeded JOIN fates f ON r >= f.lo AND r < f.hi
"""

SEED_STEPS = """
INSERT INTO notify.enrollment_steps (enrollment_id, step, reached_at)
SELECT e.enrollment_id, s.step, e.entered_at + make_interval(mins => s.n::int * 5)
FROM notify.enrollments e
JOIN fates f ON ((e.entry_event_id - $2) * 7919) % 1000 >= f.lo AND ((e.entry_event_id - $2) * 7919) % 1000 < f.hi
CROSS JOIN LATERAL unnest(f.reached) WITH ORDINALITY AS s (step, n)
WHERE e.journey_id = $1
"""

SEED_MESSAGES = """
INSERT INTO notify.messages (device_id, event_id, purpose, status, reason, store_id, sku, decided_at, sent_at,
                             journey_id, journey_step, enrollment_id)
SELECT e.device_id, e.entry_event_id, 'offers', x.status, x.reason, e.store_id, 'YOG-1', s.reached_at,
       CASE WHEN x.status = 'sent' THEN s.reached_at + interval '1 second' END, e.journey_id, s.step, e.enrollment_id
FROM notify.enrollment_steps s JOIN notify.enrollments e USING (enrollment_id)
CROSS JOIN LATERAL (SELECT (e.enrollment_id * 31337) % 100 AS v) AS h
CROSS JOIN LATERAL (
    SELECT CASE WHEN e.arm = 'control' THEN 'suppressed'
                WHEN v < 72 THEN 'sent' WHEN v < 90 THEN 'suppressed'
                WHEN v < 93 THEN 'held' WHEN v < 96 THEN 'failed' ELSE 'pending' END AS status,
           CASE WHEN e.arm = 'control' THEN 'holdout'
                WHEN v < 72 THEN NULL WHEN v < 80 THEN 'frequency_cap' WHEN v < 84 THEN 'duplicate'
                WHEN v < 87 THEN 'no_subscription' WHEN v < 90 THEN 'no_consent'
                WHEN v < 93 THEN 'quiet_hours' END AS reason
) AS x
WHERE e.journey_id = $1 AND s.step IN ('offer', 'reminder')
"""

SEED_CAMPAIGN_MESSAGES = """
INSERT INTO notify.messages (device_id, event_id, campaign_id, purpose, status, reason, store_id, sku, decided_at,
                             sent_at)
SELECT 'c' || (i % 20000), 20000000 + i, 'campaign-' || (i % 20), 'offers',
       CASE WHEN i % 10 < 7 THEN 'sent' ELSE 'suppressed' END,
       CASE WHEN i % 10 >= 7 THEN 'frequency_cap' END, 's' || (i % 10), 'YOG-1',
       now() - make_interval(secs => i * 10), now() - make_interval(secs => i * 10 - 1)
FROM generate_series(1, $1) AS i
"""

ENROLLED = 100_000
OTHERS = 200_000
CAMPAIGN_MESSAGES = 200_000
CALLS = 21


async def seed_results(conn: asyncpg.Connection) -> None:
    span_s = 30 * 24 * 3600
    start = datetime.now(UTC) - timedelta(seconds=span_s)
    await conn.execute(SEED_ENROLLMENTS)
    for journey_id, count, first_event in (("reminder", ENROLLED, 1_000_000), ("other", OTHERS, 5_000_000)):
        await conn.execute(SEED_JOURNEY, journey_id, start, count, first_event, span_s / count)
        await conn.execute(SEED_STEPS, journey_id, first_event)
        await conn.execute(SEED_MESSAGES, journey_id)
    await conn.execute(SEED_CAMPAIGN_MESSAGES, CAMPAIGN_MESSAGES)
    await conn.execute("VACUUM ANALYZE notify.enrollments, notify.enrollment_steps, notify.messages")


def nodes(node: dict[str, Any]) -> str:
    """A plan's nodes on one line: type, the index or table, rows; children in brackets."""
    label = node["Node Type"]
    if "Index Name" in node:
        label += f" {node['Index Name']}"
    elif "Relation Name" in node:
        label += f" {node['Relation Name']}"
    label += f" ({node['Actual Rows'] * node.get('Actual Loops', 1):,.0f} rows)"
    children = node.get("Plans", [])
    return label + (" [" + "; ".join(nodes(c) for c in children) + "]" if children else "")


class Recorder:
    """Stands for a connection to the results' repository functions: keeps each statement they send
    with its parameters, and answers nothing."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        self.sent.append((query, args))
        return []

    async def fetchrow(self, query: str, *args: Any) -> None:
        self.sent.append((query, args))


async def results_statements(journey_id: str) -> list[tuple[str, str, tuple[Any, ...]]]:
    """The five statements a results call runs for this journey (all time): name, SQL, parameters."""
    recorder = Recorder()
    since, until = ALL_TIME
    await journeys_repo.get_journey(recorder, journey_id)  # type: ignore[arg-type]
    counts = (journeys_repo.arm_counts, journeys_repo.step_counts, journeys_repo.message_counts)
    for count in counts:
        await count(recorder, journey_id, since, until)  # type: ignore[arg-type]
    await journeys_repo.live_counts(recorder, journey_id)  # type: ignore[arg-type]
    names = ["get_journey", *(c.__name__ for c in counts), "live_counts"]
    return [(name, query, args) for name, (query, args) in zip(names, recorder.sent, strict=True)]


def shape(query: str) -> str:
    """A statement as pg_stat_statements keeps it, whatever it made of its constants and spaces."""
    return re.sub(r"\$\d+|\b\d+\b", "?", one_line(query))


async def own_times(conn: asyncpg.Connection, statements: list[tuple[str, str, tuple[Any, ...]]]) -> dict[str, float]:
    """Each statement's mean execution time in PostgreSQL since the last reset, in ms, by name."""
    rows = await conn.fetch("SELECT query, total_exec_time / calls AS mean_ms FROM pg_stat_statements")
    by_shape = {shape(r["query"]): r["mean_ms"] for r in rows}
    return {name: by_shape.get(shape(query), float("nan")) for name, query, _ in statements}


async def plan_of(conn: asyncpg.Connection, query: str, args: tuple[Any, ...]) -> dict[str, Any]:
    answer = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query}", *args)
    plans = msgspec.json.decode(answer) if isinstance(answer, str | bytes) else answer  # decoded by our json codec
    plan: dict[str, Any] = plans[0]
    return plan


async def time_calls(http: httpx.AsyncClient, url: str) -> tuple[list[float], dict[str, Any]]:
    """Seconds each of CALLS results calls took, after 3 untimed; the last answer."""
    for _ in range(3):
        (await http.get(url, headers=ADMIN_AUTH)).raise_for_status()
    timings = []
    for _ in range(CALLS):
        started = time.perf_counter()
        r = await http.get(url, headers=ADMIN_AUTH)
        timings.append(time.perf_counter() - started)
        r.raise_for_status()
    return timings, r.json()


async def bench_results() -> None:
    with Cluster(statements=True) as cluster:
        async with httpx.AsyncClient(timeout=60) as http:
            await seed_shop(http, cluster)
            await put_journey(http, cluster, "reminder", RESULTS_JOURNEY)
            await put_journey(http, cluster, "other", RESULTS_JOURNEY)
            conn = await connect(cluster.dsn)
            try:
                started = time.perf_counter()
                await seed_results(conn)
                seeded = await conn.fetchrow(
                    """
                    SELECT (SELECT count(*) FROM notify.enrollments) AS enrollments,
                           (SELECT count(*) FROM notify.enrollment_steps) AS steps,
                           (SELECT count(*) FROM notify.messages) AS messages
                    """
                )
                print(
                    f"(b) a journey's results: {ENROLLED:,} enrollments in it, {OTHERS:,} in another;"
                    f" {seeded['enrollments']:,} enrollments, {seeded['steps']:,} steps reached,"
                    f" {seeded['messages']:,} messages in all (seeded in {time.perf_counter() - started:.0f} s)"
                )
                await conn.execute("SELECT pg_stat_statements_reset()")
                timings, answer = await time_calls(http, f"{cluster.notify}/v1/journeys/reminder/results")
                statements = await results_statements("reminder")
                own = await own_times(conn, statements)
                report_results(timings, own)
                print("    each under EXPLAIN ANALYZE (the plan's nodes, scans with their index):")
                for name, query, args in statements[1:]:
                    plan = await plan_of(conn, query, args)
                    print(f"      {name}: {plan['Execution Time']:.1f} ms; {nodes(plan['Plan'])}")
                print(
                    f"    the answer: entered {answer['entered']}, exits {answer['exits']},"
                    f" offer {answer['steps']['offer']}, goal {answer['goal']}"
                )
            finally:
                await conn.close()


def report_results(timings: list[float], own: dict[str, float]) -> None:
    median = figure("journeys.results.median_ms", statistics.median(timings) * 1000, "ms")
    mean = statistics.fmean(timings) * 1000
    print(
        f"    GET /v1/journeys/{{id}}/results over HTTP, {CALLS} calls after 3 untimed: median {median:.0f} ms,"
        f" mean {mean:.0f}, min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}"
    )
    together = figure("journeys.results.statements_ms", sum(own.values()), "ms")
    figure("journeys.results.statements_share", together / mean, "ratio")
    print(
        f"    its five statements took PostgreSQL {together:.0f} ms per call (pg_stat_statements, mean over the"
        f" calls), {together / mean:.0%} of the call's mean: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in own.items())
    )


if __name__ == "__main__":
    parts = sys.argv[1:] or ["move", "results"]
    if parts[0] not in ("move", "results"):
        sys.exit(__doc__)
    if "move" in parts:
        counts = [int(p) for p in parts if p.isdigit()]
        asyncio.run(bench_move(counts[0] if counts else DEVICES))
    if "results" in parts:
        asyncio.run(bench_results())
