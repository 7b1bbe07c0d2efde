"""Each service's OpenAPI document is exact: schemathesis with every check (what a client generated from
the document sends is accepted, what it forbids is refused, every answer, status, header and Allow is
the documented one, links lead where they say) finds nothing, as the operator and as a device.

It runs as a developer runs it against `accueil run` (the repository's schemathesis.toml and hooks),
here against the services on their sockets, a bounded number of examples per call."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.geo.settings import GeoSettings
from services.inventory.settings import InventorySettings
from tests.conftest import ADMIN_TOKEN, TESTING_NOTIFY, System
from tests.support.builders import create_store, shopper

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = 8
SEED = 20261206
TIMEOUT_S = 300


@pytest.fixture
def configs() -> dict[str, Any]:
    """Budgets a fuzzer would spend in moments: a 429 would leave the calls behind it untested."""
    return {
        "notify": TESTING_NOTIFY,
        "geo": GeoSettings(request_burst=100_000, trips_per_hour=100_000),
        "inventory": InventorySettings(max_orders_per_hour=100_000),
    }


@pytest.fixture(autouse=True)
def no_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Webhook URLs are resolved before they are accepted: the names a fuzzer makes up resolve to
    nothing here, and no query leaves the machine."""
    real = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise socket.gaierror(socket.EAI_NONAME, "no DNS in this test")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    yield


async def schemathesis(url: str, token: str, workdir: Path) -> tuple[int, str]:
    """`st run` on the service's document with every check, from a directory of its own (its caches)."""
    st = Path(sys.executable).with_name("st")
    env = {**os.environ, "ACCUEIL_TOKEN": token, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": ""}
    proc = await asyncio.create_subprocess_exec(
        str(st),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{url}/schema/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--no-color",
        cwd=workdir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), TIMEOUT_S)
    assert proc.returncode is not None
    return proc.returncode, output.decode()


@pytest.mark.parametrize(
    ("service", "who"),
    [("geo", "admin"), ("inventory", "admin"), ("notify", "admin"), ("geo", "device"), ("inventory", "device")],
)
async def test_schemathesis_finds_no_call_that_breaks_its_document(
    system: System, service: str, who: str, tmp_path: Path
) -> None:
    token = ADMIN_TOKEN
    if who == "device":  # pings, sightings, trips and orders are a device's calls: the core, as a shopper
        await create_store(system)
        token = (await shopper(system, location=True, pickup_updates=True)).auth["Authorization"].split(" ", 1)[1]
    code, output = await schemathesis(system.settings.url_of(service), token, tmp_path)
    assert code == 0, output[-8000:]
