"""The console's zone editor in a real browser (Debian's Chromium, headless, driven by Playwright)
against the three running services: zones drawn with the mouse on the store's map and saved to geo (a
circle pressed at its centre and dragged to its radius, polygons closed on their first corner or with a
double click), edited and deleted, geo's refusals shown by the field they name; and the console in
French by the browser's language, and its switch. (Its map tiles: test_console_tiles.py.)"""

from __future__ import annotations

import math
import os
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.conftest import ADMIN_TOKEN, System
from tests.support.builders import CENTRE
from tests.support.console import console_store, signed_in_tab

M_PER_DEGREE = math.pi * 6371008.8 / 180


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Between two (lat, lng) a few hundred metres apart at most (equirectangular)."""
    north = (a[0] - b[0]) * M_PER_DEGREE
    east = (a[1] - b[1]) * M_PER_DEGREE * math.cos(math.radians(a[0]))
    return math.hypot(north, east)


def offset(north_m: float, east_m: float) -> tuple[float, float]:
    """The (lat, lng) that far from the store's centre."""
    return CENTRE[0] + north_m / M_PER_DEGREE, CENTRE[1] + east_m / (M_PER_DEGREE * math.cos(math.radians(CENTRE[0])))


async def zones(system: System) -> dict[str, dict[str, Any]]:
    r = await system.geo.get("/v1/stores/rivoli/zones", headers=system.admin)
    assert r.status_code == 200, r.text
    return {zone["zone_id"]: zone for zone in r.json()}


async def open_editor(page: Page) -> None:
    await page.locator('[data-store="rivoli"] button.edit-zones').click()
    await expect(page.locator('#zone-editor path[data-zone="main"]')).to_be_visible()
    await expect(page.locator("#zone-editor .editor-map")).to_have_attribute("data-fitted", "yes")


async def main_circle_box(page: Page) -> tuple[float, float, float]:
    """The shop's circle (30 m around the store's centre) on screen: its centre and radius in pixels."""
    box = await page.locator('#zone-editor path[data-zone="main"]').bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] / 2


async def save(page: Page, zone_id: str, name: str, kind: str) -> None:
    editor = page.locator("#zone-editor")
    await editor.locator('input[name="zone_id"]').fill(zone_id)
    await editor.locator('input[name="name"]').fill(name)
    await editor.locator('select[name="kind"]').select_option(kind)
    await editor.locator("button.save").click()
    await expect(editor.locator(".saved")).to_have_text(f"{zone_id} saved.")
    # Listed on the store's card at the next poll: the page above the editor has grown by then.
    await expect(page.locator(f'[data-store="rivoli"] li[data-zone="{zone_id}"]')).to_have_count(1, timeout=10_000)


async def test_an_operator_draws_a_circle_and_polygons_on_the_map_and_geo_has_them_as_drawn(
    system: System, browser: Browser
) -> None:
    await console_store(system)
    page, errors = await signed_in_tab(browser, system)
    await open_editor(page)
    editor = page.locator("#zone-editor")
    # The store's own zones to click and edit, the tiles left out here (none configured).
    await expect(editor.locator("path.zone.mine")).to_have_count(4)
    assert await editor.locator(".editor-map").get_attribute("data-tiles") == "off"
    x, y, r = await main_circle_box(page)
    assert r > 60  # the shop fills the view: a pixel is well under a metre

    # A circle: pressed on the shop's centre, dragged out halfway to its edge, 15 m east.
    await editor.locator("button.tool.circle").click()
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + r / 4, y, steps=4)
    await page.mouse.move(x + r / 2, y, steps=4)
    await page.mouse.up()
    await expect(editor.locator(".editor-map")).to_have_attribute("data-drawn", "circle")
    await save(page, "entrance", "Entrance", "department")
    circle = (await zones(system))["entrance"]
    assert (circle["kind"], circle["name"]) == ("department", "Entrance")
    assert metres((circle["circle"]["lat"], circle["circle"]["lng"]), CENTRE) < 1
    assert abs(circle["circle"]["radius_m"] - 15) < 1

    # A polygon: the corners of the square around the shop, closed by clicking the first corner again.
    await editor.scroll_into_view_if_needed()
    await editor.locator("button.tool.polygon").click()
    x, y, r = await main_circle_box(page)  # measured again: the form's focus may have scrolled the page
    around = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]  # in the shop's radii from its centre
    for i, (dx, dy) in enumerate(around):
        if i == 3 and (path := os.environ.get("ACCUEIL_CONSOLE_DRAWING_SCREENSHOT")):  # docs/console-drawing.png
            await page.mouse.move(x + dx * r, y + dy * r - 20)
            await editor.screenshot(path=path)
            x, y, r = await main_circle_box(page)  # the screenshot may have scrolled the page
        await page.mouse.click(x + dx * r, y + dy * r)
    await expect(editor.locator(".editor-map")).to_have_attribute("data-drawn", "polygon")
    await save(page, "square", "Around the shop", "store")
    square = (await zones(system))["square"]
    ring = square["polygon"]["coordinates"][0]
    assert len(ring) == 5 and ring[0] == ring[-1]
    expected = [offset(30, -30), offset(30, 30), offset(-30, 30), offset(-30, -30)]
    assert all(metres((lat, lng), want) < 1 for (lng, lat), want in zip(ring, expected, strict=False))

    # A triangle closed with a double click on its last corner (whose two clicks add no corner).
    await editor.locator("button.tool.polygon").click()
    x, y, r = await main_circle_box(page)
    await page.mouse.click(x, y - r)
    await page.mouse.click(x + r, y + r)
    await page.mouse.dblclick(x - r, y + r)
    await expect(editor.locator(".editor-map")).to_have_attribute("data-drawn", "polygon")
    await save(page, "wedge", "Wedge", "pickup")
    ring = (await zones(system))["wedge"]["polygon"]["coordinates"][0]
    expected = [offset(30, 0), offset(-30, 30), offset(-30, -30), offset(30, 0)]
    assert len(ring) == 4
    assert all(metres((lat, lng), want) < 1 for (lng, lat), want in zip(ring, expected, strict=True))

    # The saved zones are drawn on the store's card, and in the editor to click.
    await expect(page.locator('[data-store="rivoli"] svg.map polygon.zone[data-zone="wedge"]')).to_have_count(1)
    await expect(editor.locator("path.zone.mine")).to_have_count(7)

    # Edited: chosen on the map, renamed, its shape kept; then deleted.
    # Inside the entrance, on top of the larger zones around it. Clicked through its locator: the poll may
    # grow the page above the editor between measuring the map and clicking it.
    entrance = editor.locator('path.zone[data-zone="entrance"]')
    box = await entrance.bounding_box()
    assert box is not None
    await entrance.click(position={"x": 4, "y": box["height"] / 2})
    await expect(editor.locator('input[name="zone_id"]')).to_have_value("entrance")
    await editor.locator('input[name="name"]').fill("Front door")
    await editor.locator("button.save").click()
    await expect(editor.locator(".saved")).to_have_text("entrance saved.")
    renamed = (await zones(system))["entrance"]
    assert renamed["name"] == "Front door" and renamed["circle"] == circle["circle"]
    wedge = editor.locator('path.zone[data-zone="wedge"]')
    box = await wedge.bounding_box()
    assert box is not None
    await wedge.click(position={"x": box["width"] / 2, "y": box["height"] - 4})  # inside the wedge's base
    await expect(editor.locator('input[name="zone_id"]')).to_have_value("wedge")
    await editor.locator("button.delete").click()
    await expect(editor.locator(".saved")).to_have_text("wedge deleted.")
    await expect(page.locator('[data-store="rivoli"] li[data-zone="wedge"]')).to_have_count(0, timeout=10_000)
    assert "wedge" not in await zones(system)

    # geo is the validator: its refusal is shown beside the field it names, and nothing is written.
    await editor.locator("button.tool.circle").click()
    x, y, r = await main_circle_box(page)
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + r / 3, y, steps=4)
    await page.mouse.up()
    await editor.locator('input[name="zone_id"]').fill("too-long")
    await editor.locator('input[name="name"]').fill("n" * 201)
    await editor.locator("button.save").click()
    await expect(editor.locator('[data-error-for="name"]')).to_contain_text("200")
    await editor.locator('input[name="zone_id"]').fill("no spaces allowed")
    await editor.locator('input[name="name"]').fill("Fine")
    await editor.locator("button.save").click()
    await expect(editor.locator('[data-error-for="zone_id"]')).not_to_be_empty()
    await expect(editor.locator('[data-error-for="name"]')).to_be_empty()
    assert set(await zones(system)) == {"approach", "main", "bay-2", "fresh", "entrance", "square"}
    assert errors == []
    await page.close()


async def test_the_console_speaks_french_to_a_french_browser_and_switches_to_english(
    system: System, browser: Browser
) -> None:
    await console_store(system)
    context = await browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{system.settings.notify_url}/console")
    await expect(page.locator('label[for="token"]')).to_have_text("Le jeton d’administration")
    assert await page.locator("html").get_attribute("lang") == "fr"
    await page.fill("#token", ADMIN_TOKEN)
    await page.click("#signin button[type=submit]")
    await expect(page.locator("#console h2").first).to_have_text(
        "Magasins appareils dans chaque zone en ce moment, comptés par geo ; jamais qui ni où"
    )
    row = page.locator('tr[data-campaign="welcome"]')
    await expect(row.locator("button.pause")).to_have_text("Mettre en pause")
    await expect(page.locator('[data-store="rivoli"] li[data-zone="fresh"] .zone-name')).to_have_text("fresh (rayon)")
    await expect(page.locator("#live")).to_contain_text("en direct")
    await page.locator('[data-store="rivoli"] button.edit-zones').click()
    await expect(page.locator("#zone-editor button.tool.circle")).to_have_text("Tracer un cercle")

    # The switch: English at once, the editor too, and kept for the next visit in this browser.
    await page.select_option("#language", "en")
    await expect(page.locator("#console h2").first).to_contain_text("Stores")
    await expect(row.locator("button.pause")).to_have_text("Pause")
    await expect(page.locator("#zone-editor button.tool.circle")).to_have_text("Draw a circle")
    assert await page.locator("html").get_attribute("lang") == "en"
    await page.reload()
    await expect(row.locator("button.pause")).to_have_text("Pause")
    await page.select_option("#language", "fr")
    await expect(row.locator("button.pause")).to_have_text("Mettre en pause")
    await context.close()
