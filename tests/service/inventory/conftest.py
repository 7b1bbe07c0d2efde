"""inventory alone on a real socket (its client and the tokens for every kind of caller:
tests/support/inventory.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.inventory.settings import InventorySettings
from tests.conftest import RunningServices, one_service
from tests.support.inventory import Inventory

ROOMY = InventorySettings(prepare_hold_s=7 * 86_400, max_open_orders=10_000, max_open_units=100_000,
                          max_units_per_product=100_000, max_orders_per_hour=100_000)  # fmt: skip
"""For the tests of everything but the per-shopper limits, which have their own (tests/service/inventory/
test_limits.py): one test device places many orders, and orders wait a week to be prepared."""


@pytest.fixture
def inventory_settings() -> InventorySettings:
    return ROOMY


@pytest.fixture
async def running_inventory(db_url: str, inventory_settings: InventorySettings) -> AsyncIterator[RunningServices]:
    async with one_service(db_url, "inventory", inventory_settings) as run:
        yield run


@pytest.fixture
async def inventory(running_inventory: RunningServices) -> AsyncIterator[Inventory]:
    async with httpx.AsyncClient(base_url=running_inventory.settings.inventory_url, timeout=30) as http:
        yield Inventory(http)
