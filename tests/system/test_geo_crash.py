"""A geo process killed in the middle of a batch: the app's retry gives the same events, once."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shared.geodesy import destination
from tests.conftest import System
from tests.support.builders import STORE, create_store, feed_until, ping, shopper
from tests.support.processes import ServiceProcess

CENTRE = (STORE["lat"], STORE["lng"])


@pytest.mark.parametrize("kill_after_s", [0.02, 0.08, 0.2])
async def test_a_batch_cut_short_by_a_killed_process_is_retried_to_the_same_events_once(
    system: System, db_url: str, tmp_path: Path, kill_after_s: float
) -> None:
    await create_store(system)
    auth = (await shopper(system, location=True)).auth
    start = datetime.now(UTC) - timedelta(minutes=40)
    # 500 fixes: a walk from 2.5 km away into the store, one every 4 s.
    batch = [ping(*destination(*CENTRE, 0, 2500 - i * 5), start + timedelta(seconds=4 * i)) for i in range(500)]

    with ServiceProcess("geo", db_url, tmp_path) as geo:
        await geo.ready()
        async with httpx.AsyncClient(base_url=geo.url, timeout=10) as client:
            upload = asyncio.create_task(client.post("/v1/pings", json={"pings": batch}, headers=auth))
            await asyncio.sleep(kill_after_s)  # the request is in flight: kill the process under it
            geo.proc.send_signal(signal.SIGKILL)
            geo.proc.wait()
            try:
                first = await upload
                first_events = first.json()["events"] if first.status_code == 200 else []
            except httpx.HTTPError:
                first_events = []  # the answer was lost with the process: the app retries

    retry = await system.geo.post("/v1/pings", json={"pings": batch}, headers=auth)  # another geo process
    assert retry.status_code == 200
    assert [e["type"] for e in retry.json()["events"]] == ["zone.entered"]
    if first_events:
        assert retry.json()["events"] == first_events
    feed = await feed_until(system, lambda evs: len(evs) >= 2)
    assert [e["type"] for e in feed] == ["store.changed", "zone.entered"]  # the store's creation, then one entry
