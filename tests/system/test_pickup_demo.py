"""`accueil demo` against running services: it seeds the demo store and plays a drive-in to the end."""

from __future__ import annotations

import asyncio
import os
import sys

from tests.conftest import ADMIN_TOKEN, System


async def test_the_demo_runs_a_pickup_to_completion_and_prints_its_timeline(system: System) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUEIL_")}
    env["ACCUEIL_ADMIN_TOKEN"] = ADMIN_TOKEN
    for name in ("geo", "inventory", "notify"):
        env[f"ACCUEIL_{name.upper()}_PORT"] = str(system.settings.port_of(name))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.cli", "demo", "--speed", "40", "--wait-ack", "0",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=90)
    printed = out.decode()
    assert proc.returncode == 0, printed
    assert f"Staff page: {system.settings.notify_url}/staff" in printed
    steps = [
        "order is ready",
        "I'm on my way",
        "staff alert: Camille (order ",
        "staff alert: Camille has arrived — bay 2",
        "Alex is on the way out to bay 2",
        "the order is collected",
        "staff alert closed: trip completed",
        "trip completed",
        "Camille's phone: a pickup update, suppressed (no_subscription)",
        "done",
    ]
    positions = [printed.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), printed

    staff = (await system.notify.get("/v1/stores/demo-rivoli/alerts", headers=system.admin)).json()["alerts"]
    assert [(a["kind"], a["status"], a.get("acked_by_name")) for a in staff] == [
        ("arrived", "closed", "Alex"),
        ("approaching", "closed", None),
    ]


async def test_the_demo_says_what_to_do_when_nothing_is_running() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCUEIL_")}
    env.update({"ACCUEIL_ADMIN_TOKEN": ADMIN_TOKEN, "ACCUEIL_GEO_URL": "http://127.0.0.1:9"})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.cli", "demo", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 1
    assert "start `accueil run` first" in out.decode()
