"""Property-based fuzzing of every service from its own OpenAPI document (schemathesis): whatever a
client sends, no 5xx and no answer outside the documented schema."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.support.processes import free_ports, launch, wait_until_running

CHECKS = "not_a_server_error,response_schema_conformance"


@pytest.fixture(scope="module")
def live() -> Iterator[dict[str, int]]:
    """`accueil run` in a process of its own: the fuzzer's blocking HTTP calls need a server that is
    not on the test's event loop."""
    data_dir = Path(tempfile.mkdtemp(prefix="accueil-fuzz-"))
    ports = free_ports()
    proc = launch(data_dir, ports)
    try:
        wait_until_running(proc)
        yield ports
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def device_token(live: dict[str, int]) -> str:
    """A device registered before any fuzzing: the fuzzer's own registrations spend the hourly budget
    of the address they come from (127.0.0.1)."""
    r = httpx.post(f"http://127.0.0.1:{live['notify']}/v1/devices", json={"platform": "web", "locale": "fr"})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def fuzz(port: int, token: str) -> subprocess.CompletedProcess[str]:
    st = Path(sys.executable).with_name("st")
    return subprocess.run(
        [
            str(st),
            "run",
            f"http://127.0.0.1:{port}/schema/openapi.json",
            "-H",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            "12",
            "--seed",
            "20261123",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )


@pytest.mark.parametrize("service", ["geo", "inventory", "notify"])
@pytest.mark.parametrize("who", ["admin", "device"])
def test_no_input_makes_a_service_fail_or_break_its_contract(
    live: dict[str, int], device_token: str, service: str, who: str
) -> None:
    result = fuzz(live[service], device_token if who == "device" else ADMIN_TOKEN)
    assert result.returncode == 0, result.stdout[-6000:]
