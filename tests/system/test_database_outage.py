"""PostgreSQL goes away for ten seconds under a steady stream of pings, then comes back."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.app import migrate
from shared.cli import service_spec
from shared.embedded_pg import EmbeddedPostgres
from shared.geodesy import destination
from shared.settings import SERVICES
from tests.conftest import RunningServices, System, free_socket, settings_for, with_database
from tests.support.builders import STORE, create_store, feed_until, ping, shopper

CENTRE = (STORE["lat"], STORE["lng"])
OUTAGE_S = 10


@pytest.fixture
async def own_server() -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    """A PostgreSQL server of this test's own, so stopping it disturbs no other test."""
    data_dir = Path(tempfile.mkdtemp(prefix="accueil-outage-"))
    server = EmbeddedPostgres(data_dir)
    dsn = with_database(server.start(), "postgres")
    conn = await asyncpg.connect(dsn)
    try:
        for name in SERVICES:
            await migrate(conn, service_spec(name))
    finally:
        await conn.close()
    try:
        yield server, dsn
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
async def outage_system(own_server: tuple[EmbeddedPostgres, str]) -> AsyncIterator[System]:
    _, dsn = own_server
    sockets = {name: free_socket() for name in SERVICES}
    ports = {name: s.getsockname()[1] for name, s in sockets.items()}
    run = RunningServices(settings_for(dsn, ports, db_connect_timeout_s=5), SERVICES, sockets)
    clients = {name: httpx.AsyncClient(base_url=run.settings.url_of(name), timeout=10) for name in SERVICES}
    try:
        for name in SERVICES:
            await run.start(name)
        yield System(run.settings, clients, run)
    finally:
        for client in clients.values():
            await client.aclose()
        for name in list(run.servers):
            await run.stop(name)


async def test_services_ride_out_a_database_restart_and_lose_no_acknowledged_event(
    outage_system: System, own_server: tuple[EmbeddedPostgres, str]
) -> None:
    system, (server, _) = outage_system, own_server
    await create_store(system)
    auth = (await shopper(system, location=True)).auth
    far = destination(*CENTRE, 0, 200)
    start = datetime.now(UTC) - timedelta(minutes=60)
    acknowledged: list[dict] = []
    statuses: list[int] = []
    stop = asyncio.Event()

    async def stream() -> None:
        """A phone going in and out of the store, three fixes in, three out (a fix every 15 s of its
        time, sent every 100 ms), retrying whatever is not acknowledged."""
        i = 0
        while not stop.is_set():
            where = CENTRE if (i // 3) % 2 == 0 else far
            fix = ping(*where, start + timedelta(seconds=15 * i))
            try:
                r = await system.geo.post("/v1/pings", json={"pings": [fix]}, headers=auth)
                statuses.append(r.status_code)
                if r.status_code == 200:
                    acknowledged.extend(r.json()["events"])
                    i += 1
            except httpx.HTTPError:
                statuses.append(0)
            await asyncio.sleep(0.1)

    streamer = asyncio.create_task(stream())
    await asyncio.sleep(1.5)
    before = len(acknowledged)
    assert before > 0

    await asyncio.to_thread(server.stop)
    await asyncio.sleep(1)
    readiness = [(await client.get("/readyz")).status_code for client in (system.geo, system.inventory, system.notify)]
    assert readiness == [503, 503, 503]
    assert (await system.geo.get("/healthz")).status_code == 200  # alive: nothing restarts the pods
    await asyncio.sleep(OUTAGE_S - 1)
    assert 503 in statuses  # refused plainly while the database was away, never a 500
    assert 500 not in statuses

    await asyncio.to_thread(server.start)
    deadline = asyncio.get_running_loop().time() + 20
    while asyncio.get_running_loop().time() < deadline:
        ready = [(await c.get("/readyz")).status_code for c in (system.geo, system.inventory, system.notify)]
        if ready == [200, 200, 200] and len(acknowledged) > before + 4:
            break
        await asyncio.sleep(0.2)
    stop.set()
    await streamer
    assert ready == [200, 200, 200]
    assert len(acknowledged) > before + 4, "pings are accepted again after the restart"
    assert 500 not in statuses

    wanted = {e["id"] for e in acknowledged}
    feed = await feed_until(system, lambda evs: wanted <= {e["id"] for e in evs}, limit=1000)
    stored = {e["id"]: e["type"] for e in feed}
    assert all(stored.get(e["id"]) == e["type"] for e in acknowledged), "an acknowledged event was lost"
