"""What the Kubernetes manifests rely on from the process itself, shown on real `accueil serve` processes:
a pod started before the migrations Job waits for it, and SIGTERM (sent after the preStop pause)
stops new connections, lets the work in flight finish, then exits 0 within the grace period."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared import bus
from shared.db import connect
from shared.events import ConsentChanged, ConsentData
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, eventually, free_socket, with_database

# Within terminationGracePeriodSeconds (60 s) with room to spare.
EXIT_TIMEOUT_S = 45


class Pod:
    """One `accueil serve <service>` process configured as the manifests configure a container."""

    def __init__(self, service: str, db_url: str, log: Path) -> None:
        sock = free_socket()
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUEIL_")}
        env.update(
            {
                "DATABASE_URL": db_url,
                "ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN,
                "ACCUEIL_TOKEN_KEY": TOKEN_KEY,
                "ACCUEIL_MIGRATE_ON_START": "false",
                f"ACCUEIL_{service.upper()}_PORT": str(self.port),
                "ACCUEIL_DATA_DIR": str(log.parent / "data"),
            }
        )
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shared.cli", "serve", service], env=env, stdout=out, stderr=out
            )

    def logs(self) -> str:
        return self.log.read_text()

    async def ready(self) -> None:
        async def answers() -> bool:
            assert self.proc.poll() is None, f"exited with {self.proc.returncode}:\n{self.logs()}"
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{self.url}/readyz", timeout=2)).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(answers, timeout=30, interval=0.1)

    async def refuses_connections(self) -> bool:
        try:
            async with httpx.AsyncClient() as client:
                await client.get(f"{self.url}/healthz", timeout=2)
        except httpx.ConnectError:
            return True
        except httpx.TransportError:
            return False  # accepted just before the listener closed, then dropped unanswered: ask again
        return False

    async def exit_code(self) -> int:
        return await asyncio.to_thread(self.proc.wait, EXIT_TIMEOUT_S)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def pods() -> Iterator[list[Pod]]:
    started: list[Pod] = []
    yield started
    for pod in started:
        pod.kill()


def start(pods: list[Pod], service: str, db_url: str, tmp_path: Path) -> Pod:
    pod = Pod(service, db_url, tmp_path / f"{service}-{len(pods)}.log")
    pods.append(pod)
    return pod


@pytest.fixture
async def empty_db_url(server_dsn: str) -> AsyncIterator[str]:
    """A database nobody has migrated yet, as a new cluster's is."""
    name = f"accueil_empty_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(with_database(server_dsn, "postgres"))
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield with_database(server_dsn, name)
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()


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


async def test_a_pod_started_before_the_migrations_job_waits_for_it(
    pods: list[Pod], empty_db_url: str, tmp_path: Path
) -> None:
    pod = start(pods, "inventory", empty_db_url, tmp_path)

    async def waiting() -> bool:
        return "waiting for migrations" in pod.logs()

    await eventually(waiting, timeout=30)
    assert pod.proc.poll() is None, pod.logs()
    assert await pod.refuses_connections(), "a pod must not serve before its schema exists"

    secrets = {"ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN, "ACCUEIL_TOKEN_KEY": TOKEN_KEY}
    job = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "shared.cli", "migrate"],
        env={**os.environ, "DATABASE_URL": empty_db_url, **secrets},
        stdout=subprocess.DEVNULL,
    )
    assert await job.wait() == 0

    await pod.ready()
    pod.proc.send_signal(signal.SIGTERM)
    assert await pod.exit_code() == 0


async def test_sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0(
    pods: list[Pod], db_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    pod = start(pods, "inventory", db_url, tmp_path)
    await pod.ready()

    # A slow request: its write waits for a lock this test holds.
    lock = db.transaction()
    await lock.start()
    await db.execute("LOCK TABLE inventory.products IN SHARE MODE")
    async with httpx.AsyncClient(base_url=pod.url, timeout=30) as client:
        request = asyncio.create_task(
            client.put(
                "/v1/products/YOG-1",
                json={"name": "Plain yoghurt", "category": "dairy"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
        )
        await eventually(lambda: waiting_on_a_lock(db, "inventory.products"))

        pod.proc.send_signal(signal.SIGTERM)
        await eventually(pod.refuses_connections)
        assert pod.proc.poll() is None, "the process must wait for the request in flight"
        assert not request.done()

        await lock.rollback()
        response = await request
    assert response.status_code == 200, response.text
    assert await pod.exit_code() == 0
    assert await db.fetchval("SELECT name FROM inventory.products WHERE sku = 'YOG-1'") == "Plain yoghurt"


async def test_sigterm_lets_the_bus_worker_commit_the_event_in_hand(
    pods: list[Pod], db_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    pod = start(pods, "geo", db_url, tmp_path)
    await pod.ready()

    # geo's consumer records the consent in geo.device_consents; hold its write back.
    lock = db.transaction()
    await lock.start()
    await db.execute("LOCK TABLE geo.device_consents IN SHARE MODE")
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

    pod.proc.send_signal(signal.SIGTERM)
    await eventually(pod.refuses_connections)
    assert pod.proc.poll() is None, "the process must wait for the event in hand"

    await lock.rollback()
    assert await pod.exit_code() == 0, pod.logs()
    assert await db.fetchval("SELECT location FROM geo.device_consents WHERE device_id = 'dev_shutdown'") is True
    assert await db.fetchval("SELECT count(*) FROM bus.deliveries WHERE consumer = 'geo.consents'") == 0
