"""The operator's console in a real browser (Debian's Chromium, headless, driven by Playwright),
against the three running services: sign-in, the store's zones as SVG shapes, a count that changes as
a real shopper walks in, and a campaign paused and resumed from the page."""

from __future__ import annotations

import os
import re

from playwright.async_api import Browser, Page, expect

from tests.conftest import ADMIN_TOKEN, System
from tests.support.builders import leave, shopper
from tests.support.console import console_store, walk_into_the_shop

LIVE = 10_000  # ms: the page polls every 3 s; a change shows within one or two polls


async def sign_in(page: Page, base_url: str, token: str) -> None:
    await page.goto(f"{base_url}/console")
    await page.fill("#token", token)
    await page.click("#signin button[type=submit]")


async def campaign_is_active(system: System) -> bool:
    r = await system.notify.get("/v1/campaigns/welcome", headers=system.admin)
    assert r.status_code == 200, r.text
    return r.json()["active"]


async def test_the_operator_sees_the_zones_to_scale_a_shopper_walking_in_and_pauses_a_campaign(
    system: System, browser: Browser
) -> None:
    await console_store(system)
    page = await browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)

    await sign_in(page, system.settings.notify_url, ADMIN_TOKEN)
    await expect(page.locator("#console")).to_be_visible()
    await expect(page.locator("#signin")).to_be_hidden()
    assert await page.evaluate("sessionStorage.getItem('accueil.adminToken')") == ADMIN_TOKEN

    # The store's zones as SVG shapes: three circles, one polygon, the beacon as a dot.
    store = page.locator('[data-store="rivoli"]')
    await expect(store.locator("svg.map circle.zone")).to_have_count(3)
    await expect(store.locator("svg.map polygon.zone")).to_have_count(1)
    await expect(store.locator("svg.map circle.beacon")).to_have_count(1)
    kinds = {
        await shape.get_attribute("data-zone"): await shape.get_attribute("class")
        for shape in await store.locator("svg.map .zone").all()
    }
    assert kinds == {
        "approach": "zone kind-approach",
        "main": "zone kind-store",
        "bay-2": "zone kind-pickup",
        "fresh": "zone kind-department",
    }
    # To scale: radii in metres, the view fitted to the shop (30 m around the centre) and bay 2 (15 m
    # around a point 40 m east): 85 m across, plus a margin; the approach (800 m) in the wide view.
    assert await store.locator('circle[data-zone="bay-2"]').get_attribute("r") == "15"
    assert await store.locator('circle[data-zone="main"]').get_attribute("r") == "30"
    assert 85 < float(await store.locator("svg.map").get_attribute("data-side-m")) < 100
    await store.locator("button.wide").click()
    await expect(store.locator("svg.map")).to_have_attribute("data-side-m", re.compile(r"^17\d\d\.\d$"))
    await store.locator("button.wide").click()
    await expect(store.locator("svg.map")).to_have_attribute("data-side-m", re.compile(r"^\d\d\.\d$"))

    main = store.locator('li[data-zone="main"] .count')
    await expect(main).to_have_text("0")

    # A shopper walks in, with real pings to geo: the count goes up on the page, then down as she leaves.
    anna = await shopper(system, location=True, offers=True)
    await walk_into_the_shop(system, anna)
    await expect(main).to_have_text("1", timeout=LIVE)
    await expect(store.locator('text.count[data-zone="main"]')).to_have_text("1")
    await expect(store.locator('li[data-zone="bay-2"] .count')).to_have_text("0")
    page_text = await page.locator("body").inner_text()
    assert anna.device_id not in page_text

    # Her visit was decided for the campaign: the funnel and the latest decisions say so, with the reason.
    row = page.locator('tr[data-campaign="welcome"]')
    await expect(row.locator('.n[data-step="decided"]')).to_have_text("1", timeout=LIVE)
    await expect(row.locator(".suppressed")).to_have_text("suppressed: no_subscription 1")
    await expect(page.locator("#decisions tbody tr .reason").first).to_have_text("no_subscription")

    if path := os.environ.get("ACCUEIL_CONSOLE_SCREENSHOT"):  # how docs/console.png is made
        await page.screenshot(path=path, full_page=True)

    # Paused from the page: the API says so, and so does the page; then resumed.
    await expect(row.locator(".status")).to_have_text("active")
    await row.locator("button.pause").click()
    await expect(row.locator(".status")).to_have_text("paused")
    assert await campaign_is_active(system) is False
    await row.locator("button.resume").click()
    await expect(row.locator(".status")).to_have_text("active")
    assert await campaign_is_active(system) is True

    await leave(system, anna)
    await expect(main).to_have_text("0", timeout=LIVE)

    # A reload keeps the operator signed in (the tab's session storage); signing out forgets the token.
    await page.reload()
    await expect(page.locator("#console")).to_be_visible()
    await page.click("#signout")
    await expect(page.locator("#signin")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('accueil.adminToken')") is None
    assert errors == []
    assert [url for url in failed if not url.endswith("/favicon.ico")] == []  # browsers ask on their own
    await page.close()


async def test_a_wrong_token_is_refused_and_not_kept(system: System, browser: Browser) -> None:
    page = await browser.new_page()
    device = (await system.notify.post("/v1/devices", json={"platform": "web", "locale": "en"})).json()
    for wrong in ("not a token", device["token"]):
        await sign_in(page, system.settings.notify_url, wrong)
        await expect(page.locator("#signin-error")).to_have_text("This is not the admin token.")
        await expect(page.locator("#console")).to_be_hidden()
        assert await page.evaluate("sessionStorage.getItem('accueil.adminToken')") is None
    await page.close()


async def test_the_console_is_served_with_a_strict_policy_and_no_outside_resource(system: System) -> None:
    page = await system.notify.get("/console")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert re.findall(r'(?:src|href)="([^"]+)"', page.text) == ["/console/console.css", "/console/console.js"]
    for asset, media in (("/console/console.js", "text/javascript"), ("/console/console.css", "text/css")):
        r = await system.notify.get(asset)
        assert r.status_code == 200 and r.headers["content-type"].startswith(media)
        assert "http" not in r.text.replace("http://www.w3.org/2000/svg", "")  # nothing from elsewhere
    assert (await system.notify.get("/console/other.js")).status_code == 404
