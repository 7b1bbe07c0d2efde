"""A geo process killed in the middle of a batch: the app's retry gives the same events, once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.geodesy import destination
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System, free_socket
from tests.helpers import STORE, create_store, feed_until, ping, register

CENTRE = (STORE["lat"], STORE["lng"])


def start_geo(db_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN,
        "ACCUEIL_TOKEN_KEY": TOKEN_KEY,
        "ACCUEIL_GEO_PORT": str(port),
        "ACCUEIL_MIGRATE_ON_START": "false",
        "ACCUEIL_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen([sys.executable, "-m", "shared.cli", "serve", "geo"], env=env, stderr=subprocess.DEVNULL)


async def wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("geo did not start")


@pytest.mark.parametrize("kill_after_s", [0.02, 0.08, 0.2])
async def test_a_batch_cut_short_by_a_killed_process_is_retried_to_the_same_events_once(
    system: System, db_url: str, kill_after_s: float
) -> None:
    await create_store(system)
    _, auth = await register(system, location=True)
    start = datetime.now(UTC) - timedelta(minutes=40)
    # 500 fixes: a walk from 2.5 km away into the store, one every 4 s.
    batch = [ping(*destination(*CENTRE, 0, 2500 - i * 5), start + timedelta(seconds=4 * i)) for i in range(500)]

    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}"
    geo = start_geo(db_url, port)
    try:
        await wait_ready(url)
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            upload = asyncio.create_task(client.post("/v1/pings", json={"pings": batch}, headers=auth))
            await asyncio.sleep(kill_after_s)  # the request is in flight: kill the process under it
            geo.send_signal(signal.SIGKILL)
            geo.wait()
            try:
                first = await upload
                first_events = first.json()["events"] if first.status_code == 200 else []
            except httpx.HTTPError:
                first_events = []  # the answer was lost with the process: the app retries
    finally:
        if geo.poll() is None:
            geo.kill()

    retry = await system.geo.post("/v1/pings", json={"pings": batch}, headers=auth)  # another geo process
    assert retry.status_code == 200
    assert [e["type"] for e in retry.json()["events"]] == ["zone.entered"]
    if first_events:
        assert retry.json()["events"] == first_events
    feed = await feed_until(system, lambda evs: len(evs) >= 1)
    assert [e["type"] for e in feed] == ["zone.entered"]
