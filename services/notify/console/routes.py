"""The operator's console: its page, its files (Leaflet among them, served from here, never a CDN),
where its map's tiles and geo are, and the one aggregate answer it polls."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get
from litestar.params import FromPath, Parameter

from services.notify.console import service
from services.notify.console.schemas import ConsoleConfig, Overview
from services.notify.context import NotifyContext
from shared.auth import Caller
from shared.context import FromContext
from shared.cors import origin_of
from shared.errors import NotFound
from shared.pages import page_file, page_headers

_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
# The console's files, by the path under /console/ they are served at (the same under static/).
_FILES = frozenset(
    {
        "console.css",
        "console.js",
        "console-i18n.js",
        "console-map.js",
        "console-campaigns.js",
        "console-journeys.js",
        "console-preview.js",
        "console-stores.js",
        "console-products.js",
        "audit.js",
        "sign_on.js",
        "dry-run.js",
        "vendor/leaflet/leaflet.css",
        "vendor/leaflet/leaflet.js",
        *(f"vendor/leaflet/images/{name}.png" for name in ("layers", "layers-2x", "marker-icon", "marker-shadow")),
        "vendor/leaflet/images/marker-icon-2x.png",
    }
)
_PAGE: dict[str, Any] = {"exclude_from_auth": True, "include_in_schema": False, "sync_to_thread": False}


def _config(ctx: NotifyContext) -> ConsoleConfig:
    return ConsoleConfig(
        geo=(ctx.config.public_geo_url or ctx.settings.geo_url).rstrip("/"),
        inventory=(ctx.config.public_inventory_url or ctx.settings.inventory_url).rstrip("/"),
        tile_url=ctx.config.console_tile_url,
        tile_attribution=ctx.config.console_tile_attribution,
    )


@get("/console", **_PAGE)
def console_page(ctx: FromContext[NotifyContext]) -> Response[bytes]:
    """The console: it calls geo to write zones and inventory to search the catalogue, and shows the
    map's tiles from their origin alone."""
    config = _config(ctx)
    images = (origin_of(config.tile_url),) if config.tile_url else ()
    return page_file(
        __package__, "console.html", "text/html", (origin_of(config.geo), origin_of(config.inventory)), images
    )


@get("/console/config.json", **_PAGE)
def console_config(ctx: FromContext[NotifyContext]) -> Response[ConsoleConfig]:
    return Response(_config(ctx), headers=page_headers())


@get("/console/{name:path}", **_PAGE)
def console_file(name: FromPath[str]) -> Response[bytes]:
    path = name.lstrip("/")
    if path not in _FILES:
        raise NotFound(f"no such file {path!r}")
    return page_file(__package__, path, _TYPES[path[path.rindex(".") :]])


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
    principal.require_role("marketer")
    return await service.overview(ctx, decisions)


ROUTES = [console_page, console_config, console_file, console_overview]
