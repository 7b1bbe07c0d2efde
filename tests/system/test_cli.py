"""`accueil run` as a newcomer runs it: embedded PostgreSQL, three processes, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import free_socket

ADMIN = "cli-test-admin-token-0123456789"


def processes_using(data_dir: Path) -> list[psutil.Process]:
    """Every process started for this data dir: postgres (by its -D) and the services (by env)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "environ"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            environ = proc.info["environ"] or {}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if str(data_dir) in cmdline or environ.get("ACCUEIL_DATA_DIR") == str(data_dir):
            if proc.pid != os.getpid():
                found.append(proc)
    return found


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="accueil-cli-"))
    yield path
    for proc in processes_using(path):  # never leave anything behind, even when a test fails
        proc.kill()


def free_ports() -> dict[str, int]:
    socks = [free_socket() for _ in range(3)]
    found = dict(zip(("geo", "inventory", "notify"), (s.getsockname()[1] for s in socks), strict=True))
    for s in socks:
        s.close()
    return found


@pytest.fixture
def ports() -> dict[str, int]:
    return free_ports()


def start(data_dir: Path, ports: dict[str, int]) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"ACCUEIL_DATA_DIR": str(data_dir), "ACCUEIL_ADMIN_TOKEN": ADMIN})
    env.update({f"ACCUEIL_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def wait_until_running(proc: subprocess.Popen[str]) -> str:
    """Read the launcher's output until it says it is running; return what it printed."""
    lines = []
    deadline = time.monotonic() + 90
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"accueil run exited early: {''.join(lines)}")
        lines.append(line)
        if line.startswith("Ctrl-C"):
            return "".join(lines)
    raise AssertionError("accueil run was not ready within 90 s")


def test_accueil_run_serves_all_three_and_sigterm_leaves_nothing_behind(data_dir: Path, ports: dict[str, int]) -> None:
    proc = start(data_dir, ports)
    printed = wait_until_running(proc)
    assert f"admin token: {ADMIN}" in printed
    for name, port in ports.items():
        assert f"http://127.0.0.1:{port}" in printed
        for path in ("/readyz", "/healthz", "/metrics", "/schema/openapi.json"):
            r = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
            assert r.status_code == 200, (name, path, r.text)
    assert processes_using(data_dir), "the services and postgres should be running"

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    time.sleep(0.5)
    assert processes_using(data_dir) == []


def test_after_the_launcher_is_killed_the_next_run_starts_and_stops_cleanly(
    data_dir: Path, ports: dict[str, int]
) -> None:
    first = start(data_dir, ports)
    wait_until_running(first)
    first.kill()  # SIGKILL: no chance to clean up
    first.wait()

    # The services die with their parent; postgres is left running and is adopted by the next run.
    deadline = time.monotonic() + 30
    while any("shared.cli" in " ".join(p.cmdline()) for p in processes_using(data_dir)):
        assert time.monotonic() < deadline, "services outlived their killed launcher"
        time.sleep(0.2)

    second = start(data_dir, ports)
    wait_until_running(second)
    r = httpx.get(f"http://127.0.0.1:{ports['geo']}/readyz", timeout=5)
    assert r.status_code == 200
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0
    time.sleep(0.5)
    assert processes_using(data_dir) == []
