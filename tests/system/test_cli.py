"""`accueil run` as a newcomer runs it: embedded PostgreSQL, three processes, clean stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.support.processes import accueil, free_ports, launch, launched_env, wait_until_running


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


@pytest.fixture
def ports() -> dict[str, int]:
    return free_ports()


def test_accueil_run_serves_all_three_and_sigterm_leaves_nothing_behind(data_dir: Path, ports: dict[str, int]) -> None:
    proc = launch(data_dir, ports)
    printed = wait_until_running(proc)
    assert f"admin token: {ADMIN_TOKEN}" in printed
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
    first = launch(data_dir, ports)
    wait_until_running(first)
    first.kill()  # SIGKILL: no chance to clean up
    first.wait()

    # The services die with their parent; postgres is left running and is adopted by the next run.
    deadline = time.monotonic() + 30
    while any("shared.cli" in " ".join(p.cmdline()) for p in processes_using(data_dir)):
        assert time.monotonic() < deadline, "services outlived their killed launcher"
        time.sleep(0.2)

    second = launch(data_dir, ports)
    wait_until_running(second)
    r = httpx.get(f"http://127.0.0.1:{ports['geo']}/readyz", timeout=5)
    assert r.status_code == 200
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0
    time.sleep(0.5)
    assert processes_using(data_dir) == []


def test_with_push_standins_the_native_demo_shows_what_the_phone_was_pushed(
    data_dir: Path, ports: dict[str, int]
) -> None:
    # No quiet hours: the offer in the bay is sent at whatever hour the test runs.
    quiet = {"ACCUEIL_QUIET_HOURS_START": "00:00", "ACCUEIL_QUIET_HOURS_END": "00:00"}
    proc = launch(data_dir, ports, "--push-standins", **quiet)
    printed = wait_until_running(proc)
    for kind in ("apns", "fcm"):
        assert re.search(rf"{kind} stand-in https://localhost:\d+ ", printed), printed

    demo = accueil(
        "demo", "--native", "android", "--speed", "40", "--wait-ack", "0",
        env=launched_env(data_dir, ports), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    shown, _ = demo.communicate(timeout=90)
    assert demo.returncode == 0, shown
    assert "Camille's Android phone showed (as the FCM stand-in received them):" in shown
    # Each as the phone shows it, with the time since what caused it (the offer and "we see you" come
    # from one ping, in either order).
    phone = [line.split("s    ", 1)[1] for line in shown.splitlines() if "s    “" in line]
    expected = [
        r"“Your order is ready” Order \w{4} is ready to collect\. .*\(\d+\.\d\d s after order\.ready\)",
        r"“While you wait” Vegetable box: one more for the road\?  \(\d+\.\d\d s after zone\.entered\)",
        r"“We see you” We see you — a colleague is coming to bay 2  \(\d+\.\d\d s after trip\.arrived\)",
    ]
    assert len(phone) == len(expected), shown
    assert all(sum(bool(re.fullmatch(e, line)) for line in phone) == 1 for e in expected), shown
    assert "done: that is a contactless pickup" in shown
    # The app reported the offer shown, as a native app does: the campaign's funnel counts it.
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    results = httpx.get(f"http://127.0.0.1:{ports['notify']}/v1/campaigns/demo-bay/results", headers=admin).json()
    assert (results["decided"], results["sent"], results["shown"]) == (1, 1, 1), results

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    time.sleep(0.5)
    assert processes_using(data_dir) == []  # the stand-ins too


def test_migrating_needs_the_database_and_no_secret(db_url: str, tmp_path: Path) -> None:
    proc = accueil("migrate", env={"DATABASE_URL": db_url, "ACCUEIL_DATA_DIR": str(tmp_path / "data")},
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "applied" in out and not (tmp_path / "data" / "secrets.json").exists()
