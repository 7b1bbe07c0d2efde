"""What the Kubernetes manifests rely on from the process itself, shown on real `accueil serve` processes:
a pod started before the migrations Job waits for it, and SIGTERM (sent after the preStop pause)
stops new connections, lets the work in flight finish, then exits 0 within the grace period."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from asyncpg.transaction import Transaction

from shared import bus
from shared.db import connect
from shared.events import ConsentChanged, ConsentData
from tests.conftest import ADMIN_TOKEN, TLS, TOKEN_KEY, eventually, new_database
from tests.support.processes import ServiceProcess, accueil

# Within terminationGracePeriodSeconds (60 s) with room to spare.
EXIT_TIMEOUT_S = 45

Pods = Callable[[str, str], ServiceProcess]


@pytest.fixture
def pods(tmp_path: Path) -> Iterator[Pods]:
    """Start `accueil serve <service>` processes as pods, each in a directory of its own; all are killed
    at the end of the test, whatever happens."""
    started: list[ServiceProcess] = []

    def start(service: str, db_url: str) -> ServiceProcess:
        pod = ServiceProcess(service, db_url, tmp_path / f"{service}-{len(started)}")
        started.append(pod)
        return pod

    yield start
    for pod in started:
        pod.kill()


async def refuses_connections(pod: ServiceProcess) -> bool:
    try:
        async with httpx.AsyncClient(verify=TLS) as client:
            await client.get(f"{pod.url}/healthz", timeout=2)
    except httpx.ConnectError:
        return True
    except httpx.TransportError:
        return False  # accepted just before the listener closed, then dropped unanswered: ask again
    return False


@pytest.fixture
async def empty_db_url(server_dsn: str) -> AsyncIterator[str]:
    """A database nobody has migrated yet, as a new cluster's is."""
    async with new_database(server_dsn) as url:
        yield url


async def waiting_on_a_lock(db: asyncpg.Connection, table: str) -> bool:
    """Another session of this database is blocked on our lock of `table`."""
    return bool(
        await db.fetchval(
            """
            SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE NOT l.granted AND l.relation = $1::regclass AND a.pid <> pg_backend_pid()
            """,
            table,
        )
    )


async def hold_lock(db: asyncpg.Connection, table: str) -> Transaction:
    """Writes to `table` wait until the returned transaction is rolled back."""
    lock = db.transaction()
    await lock.start()
    await db.execute(f"LOCK TABLE {table} IN SHARE MODE")
    return lock


async def sigterm_while_busy(pod: ServiceProcess, work: str) -> None:
    """SIGTERM while the pod's `work` waits for a lock: it stops listening, but does not exit yet."""
    pod.proc.send_signal(signal.SIGTERM)
    await eventually(lambda: refuses_connections(pod))
    assert pod.proc.poll() is None, f"the process must wait for {work}"


async def test_a_pod_started_before_the_migrations_job_waits_for_it(pods: Pods, empty_db_url: str) -> None:
    pod = pods("inventory", empty_db_url)

    async def waiting() -> bool:
        return "waiting for migrations" in pod.logs()

    await eventually(waiting, timeout=30)
    assert pod.proc.poll() is None, pod.logs()
    assert await refuses_connections(pod), "a pod must not serve before its schema exists"

    secrets = {"ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN, "ACCUEIL_TOKEN_KEY": TOKEN_KEY}
    job = accueil("migrate", env={"DATABASE_URL": empty_db_url, **secrets}, stdout=subprocess.DEVNULL)
    assert await asyncio.to_thread(job.wait, EXIT_TIMEOUT_S) == 0

    await pod.ready()
    pod.proc.send_signal(signal.SIGTERM)
    assert await pod.exit_code(EXIT_TIMEOUT_S) == 0


async def test_sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0(
    pods: Pods, db_url: str, db: asyncpg.Connection
) -> None:
    pod = pods("inventory", db_url)
    await pod.ready()

    # A slow request: its write waits for a lock this test holds.
    lock = await hold_lock(db, "inventory.products")
    async with httpx.AsyncClient(base_url=pod.url, timeout=30) as client:
        request = asyncio.create_task(
            client.put(
                "/v1/products/YOG-1",
                json={"name": "Plain yoghurt", "category": "dairy"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
        )
        await eventually(lambda: waiting_on_a_lock(db, "inventory.products"))

        await sigterm_while_busy(pod, "the request in flight")
        assert not request.done()

        await lock.rollback()
        response = await request
    assert response.status_code == 200, response.text
    assert await pod.exit_code(EXIT_TIMEOUT_S) == 0
    assert await db.fetchval("SELECT name FROM inventory.products WHERE sku = 'YOG-1'") == "Plain yoghurt"


async def test_sigterm_lets_the_bus_worker_commit_the_event_in_hand(
    pods: Pods, db_url: str, db: asyncpg.Connection
) -> None:
    pod = pods("geo", db_url)
    await pod.ready()

    # geo's consumer records the consent in geo.device_consents; hold its write back.
    lock = await hold_lock(db, "geo.device_consents")
    publisher = await connect(db_url)
    try:
        async with publisher.transaction():
            event = ConsentChanged(
                ts=datetime.now(UTC),
                device_id="dev_shutdown",
                data=ConsentData(purposes={"location": True}, policy_version="2026-01"),
            )
            await bus.publish(publisher, "notify", [event])
    finally:
        await publisher.close()
    await eventually(lambda: waiting_on_a_lock(db, "geo.device_consents"))

    await sigterm_while_busy(pod, "the event in hand")

    await lock.rollback()
    assert await pod.exit_code(EXIT_TIMEOUT_S) == 0, pod.logs()
    assert await db.fetchval("SELECT location FROM geo.device_consents WHERE device_id = 'dev_shutdown'") is True
    assert await db.fetchval("SELECT count(*) FROM bus.deliveries WHERE consumer = 'geo.consents'") == 0
