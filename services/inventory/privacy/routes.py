"""Privacy's HTTP API."""

from __future__ import annotations

from typing import Any

from litestar import get

from services.inventory.context import InventoryContext
from services.inventory.privacy import service
from shared.context import FromContext


@get("/v1/privacy", exclude_from_auth=True)
async def privacy(ctx: FromContext[InventoryContext]) -> dict[str, Any]:
    return service.notice(ctx)


ROUTES = [privacy]
