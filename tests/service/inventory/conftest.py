"""inventory alone on a real socket (its client and the tokens for every kind of caller:
tests/support/inventory.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import RunningServices, free_socket, settings_for
from tests.support.inventory import Inventory


@pytest.fixture
async def running_inventory(db_url: str) -> AsyncIterator[RunningServices]:
    sock = free_socket()
    run = RunningServices(
        settings_for(db_url, {"inventory": sock.getsockname()[1]}), ("inventory",), {"inventory": sock}
    )
    try:
        await run.start("inventory")
        yield run
    finally:
        await run.stop("inventory")
        sock.close()


@pytest.fixture
async def inventory(running_inventory: RunningServices) -> AsyncIterator[Inventory]:
    async with httpx.AsyncClient(base_url=running_inventory.settings.inventory_url, timeout=30) as http:
        yield Inventory(http)
