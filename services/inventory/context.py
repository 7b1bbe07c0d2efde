"""What inventory's routes, consumers and jobs receive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from services.inventory.settings import InventorySettings
from shared.context import Context


@dataclass(frozen=True, kw_only=True)
class InventoryContext(Context):
    config: InventorySettings


@asynccontextmanager
async def inventory_context(base: Context, config: InventorySettings) -> AsyncIterator[InventoryContext]:
    yield InventoryContext(**base.parts(), config=config)
