"""The operator's console: its page and the one aggregate answer it polls."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import Parameter

from services.notify.console import service
from services.notify.console.schemas import Overview
from services.notify.context import NotifyContext
from shared.auth import Caller
from shared.context import FromContext
from shared.pages import page_routes


@get("/v1/console/overview")
async def console_overview(
    principal: Caller,
    ctx: FromContext[NotifyContext],
    decisions: Annotated[int, Parameter(ge=1, le=100)] = 20,
) -> Overview:
    """Stores with their zones, beacons and how many devices are in each zone now (from geo), campaigns
    with their status and funnel (product names from inventory), journeys with their steps and results
    (devices at each step now, the goal per arm and its uplift), and the latest `decisions` with their
    reasons. A peer that cannot answer is named in `unavailable`; the rest is whole."""
    principal.require_admin()
    return await service.overview(ctx, decisions)


ROUTES = [
    console_overview,
    *page_routes(
        __package__,
        "/console",
        "console.html",
        {
            "console.css": "text/css",
            "console.js": "text/javascript",
            "sign_on.js": "text/javascript",
        },
    ),
]
