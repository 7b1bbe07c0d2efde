"""The console's map over tiles in a real browser (Debian's Chromium, headless, driven by Playwright):
the store drawn over the tiles of the configured tile server (a local one here) and nothing fetched from
any other origin, and the plain drawing, at the same coordinates, when the tiles cannot be fetched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import msgspec
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import ADMIN_TOKEN, TESTING_NOTIFY, System
from tests.support.console import console_store, sign_in, signed_in_tab
from tests.support.tile_server import TileServer


@pytest.fixture
async def tiles() -> AsyncIterator[TileServer]:
    async with TileServer() as server:
        yield server


@pytest.fixture
def configs(tiles: TileServer) -> dict[str, Any]:
    return {"notify": msgspec.structs.replace(TESTING_NOTIFY, console_tile_url=tiles.url)}


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def test_the_store_is_drawn_over_the_configured_tiles_fetched_from_there_alone(
    system: System, browser: Browser, tiles: TileServer
) -> None:
    await console_store(system)
    answer = await system.notify.get("/console")
    policy = answer.headers["content-security-policy"]
    assert f"img-src 'self' data: {tiles.origin};" in policy
    context = await browser.new_context(viewport={"width": 1280, "height": 1000})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, system.settings.notify_url, ADMIN_TOKEN)

    card = page.locator('[data-store="rivoli"]')
    await expect(card.locator(".map.tiled img.leaflet-tile-loaded").first).to_be_visible()
    await expect(card.locator(".map.tiled path.zone")).to_have_count(4)
    await expect(card.locator("svg.map")).to_have_count(0)
    await expect(card.locator(".leaflet-control-attribution")).to_contain_text("© OpenStreetMap contributors")
    assert tiles.requested and all(path.startswith("/tiles/") for path in tiles.requested)
    # The editor over the same tiles, its zones writing to geo, the store desk reading inventory's stock:
    # nothing from any other origin.
    await card.locator("button.edit-zones").click()
    await expect(page.locator('#zone-editor path[data-zone="main"]')).to_be_visible()
    await expect(page.locator("#zone-editor .editor-map img.leaflet-tile-loaded").first).to_be_visible()
    await expect(page.locator("#store-desk .panel.stock tr[data-sku]")).to_have_count(1)
    services = (system.settings.notify_url, system.settings.geo_url, system.settings.inventory_url)
    allowed = {*map(origin, services), tiles.origin}
    assert {origin(url) for url in requested} <= allowed
    assert origin(system.settings.geo_url) in {origin(url) for url in requested}
    assert errors == []
    await context.close()


async def test_tiles_that_cannot_be_fetched_leave_the_plain_drawing_at_the_same_place(
    system: System, browser: Browser, tiles: TileServer
) -> None:
    await console_store(system)
    await tiles.stop()  # its port refuses: as offline, or a network that blocks the tile server
    page, errors = await signed_in_tab(browser, system)
    card = page.locator('[data-store="rivoli"]')
    await expect(card.locator("svg.map circle.zone")).to_have_count(3)
    await expect(card.locator("svg.map polygon.zone")).to_have_count(1)
    await expect(card.locator(".map.tiled")).to_have_count(0)
    assert await card.locator('circle[data-zone="main"]').get_attribute("r") == "30"
    # The editor too draws without tiles, and zones still save.
    await card.locator("button.edit-zones").click()
    await expect(page.locator('#zone-editor path[data-zone="main"]')).to_be_visible()
    assert await page.locator("#zone-editor .editor-map").get_attribute("data-tiles") == "off"
    assert errors == []
    await page.close()
