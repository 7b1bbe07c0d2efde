"""The operator's console in a real browser (Debian's Chromium, headless, driven by Playwright),
against the three running services: sign-in, the store's zones as SVG shapes, a count that changes as
a real shopper walks in, a campaign paused and resumed from the page, and a journey's steps with the
devices at each step now, its arms and uplift, paused and resumed without a new version."""

from __future__ import annotations

import os
import re
from typing import Any

from playwright.async_api import Browser, expect

from services.notify.journeys import arms
from shared import keys
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System, eventually
from tests.support.builders import SKU, TEXTS, Shopper, leave, pickup_store, place_order, shopper
from tests.support.console import console_store, sign_in, signed_in_tab, walk_into_the_shop
from tests.support.push_service import LocalPushService

LIVE = 10_000  # ms: the page polls every 3 s; a change shows within one or two polls


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
    assert re.findall(r'(?:src|href)="([^"]+)"', page.text) == [
        "/console/vendor/leaflet/leaflet.css",
        "/console/console.css",
        "/console/audit.js",
        "/console/console.js",
        "/console/console-stores.js",
        "/console/sign_on.js",
    ]
    own = (
        "console.js",
        "console-map.js",
        "console-i18n.js",
        "console-campaigns.js",
        "console-journeys.js",
        "console-preview.js",
        "console-stores.js",
        "console-products.js",
        "audit.js",
        "sign_on.js",
        "dry-run.js",
        "console.css",
    )
    for asset in (*own, "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "vendor/leaflet/images/layers.png"):
        r = await system.notify.get(f"/console/{asset}")
        media = {"js": "text/javascript", "css": "text/css", "png": "image/png"}[asset.rsplit(".", 1)[1]]
        assert r.status_code == 200 and r.headers["content-type"].startswith(media), asset
        if asset in own:
            assert "http" not in r.text.replace("http://www.w3.org/2000/svg", "")  # nothing from elsewhere
    for missing in ("other.js", "vendor/leaflet/leaflet-src.js", "routes.py", "vendor/leaflet/LICENSE"):
        assert (await system.notify.get(f"/console/{missing}")).status_code == 404, missing


WELCOME_IN = {
    "name": "Welcome in",
    "entry": {"event": "zone.entered", "zone_kind": "store"},
    "holdout_percent": 50,
    "goal": {"event": "order.reserved", "within": "PT2H", "sku": SKU},
    "steps": [
        {"id": "hello", "type": "message", "purpose": "offers", "sku": SKU, "message": TEXTS, "next": "linger"},
        {"id": "linger", "type": "wait", "for": "PT1H"},
    ],
}


async def shoppers_by_arm(
    system: System, push: LocalPushService, journey_id: str, treated: int, held_out: int
) -> tuple[list[Shopper], list[Shopper]]:
    """Subscribed shoppers consenting to offers, `treated` of them in the journey's treatment arm and
    `held_out` in its control arm: the arm is a keyed hash of the journey and the device, drawn here
    with the services' own key, so the counts on the page are known before anyone walks in."""
    key = keys.derive(TOKEN_KEY, keys.JOURNEY_ARMS)
    found: dict[str, list[Shopper]] = {"treatment": [], "control": []}
    wanted = {"treatment": treated, "control": held_out}
    while any(len(found[arm]) < n for arm, n in wanted.items()):
        who = await shopper(system, push, location=True, offers=True)
        arm = arms.draw(key, journey_id, who.device_id, WELCOME_IN["holdout_percent"])
        if len(found[arm]) < wanted[arm]:
            found[arm].append(who)
    return found["treatment"], found["control"]


async def journey(system: System, journey_id: str) -> dict[str, Any]:
    r = await system.notify.get(f"/v1/journeys/{journey_id}", headers=system.admin)
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_operator_sees_a_journeys_steps_live_with_its_uplift_and_pauses_it_without_a_new_version(
    system: System, browser: Browser, push: LocalPushService
) -> None:
    await pickup_store(system)
    r = await system.notify.put("/v1/journeys/welcome-in", json=WELCOME_IN, headers=system.admin)
    assert r.status_code == 200, r.text
    old = {**WELCOME_IN, "name": "Old welcome"}
    assert (await system.notify.put("/v1/journeys/old", json=old, headers=system.admin)).status_code == 200
    assert (await system.notify.delete("/v1/journeys/old", headers=system.admin)).status_code == 204
    page, errors = await signed_in_tab(browser, system)

    # The journey's steps in order, each with its gist; nobody in it yet.
    card = page.locator('article.journey[data-journey="welcome-in"]')
    await expect(card.locator("h3")).to_contain_text("Welcome in")
    await expect(card.locator(".status")).to_have_text("active")
    await expect(card.locator("tbody tr[data-step]")).to_have_count(2)
    assert await card.locator("tbody tr[data-step]").evaluate_all("rows => rows.map(r => r.dataset.step)") == [
        "hello",
        "linger",
    ]
    await expect(card.locator('tr[data-step="hello"] .gist')).to_have_text(
        "message · offers · BOX-1 · “Welcome” → linger"
    )
    await expect(card.locator('tr[data-step="linger"] .gist')).to_have_text("wait 1 h → done")
    await expect(card.locator(".entry")).to_have_text(
        "enters on zone.entered · a store zone · control arm 50% · goal: order.reserved with BOX-1 within 2 h"
    )
    await expect(card.locator('tr[data-step="linger"] .now')).to_have_text("0")
    await expect(card.locator(".uplift")).to_have_text("uplift: not enough data (an arm nobody entered yet)")
    ended = page.locator('article.journey[data-journey="old"]')
    await expect(ended.locator(".status")).to_have_text("ended")
    await expect(ended.locator("button")).to_have_count(0)

    # Two shoppers of the treatment arm and one of the control arm walk in, and one of the first two
    # orders the product: the page shows them at the wait now, the offer sent to two and held out from
    # one, the goal per arm and the uplift, without a reload.
    treated, held_out = await shoppers_by_arm(system, push, "welcome-in", treated=2, held_out=1)
    for who in [*treated, *held_out]:
        await walk_into_the_shop(system, who)

    async def all_decided() -> dict[str, Any] | None:
        r = await system.notify.get("/v1/journeys/welcome-in/results", headers=system.admin)
        hello = r.json()["steps"]["hello"]
        return r.json() if hello.get("sent") == 2 and hello.get("suppressed") == {"holdout": 1} else None

    await eventually(all_decided)
    await place_order(system, treated[0])
    await expect(card.locator('tr[data-step="linger"] .now')).to_have_text("3", timeout=LIVE)
    await expect(card.locator('tr[data-step="hello"] .now')).to_have_text("0")
    await expect(card.locator('tr[data-step="hello"] .reached')).to_have_text("3")
    await expect(card.locator('tr[data-step="hello"] .sent')).to_have_text("2")
    await expect(card.locator('tr[data-step="hello"] .suppressed')).to_have_text("holdout 1")
    await expect(card.locator('tr[data-step="linger"] .reached')).to_have_text("3")
    for arm, (entered, converted, rate) in {"treatment": ("2", "1", "50.0%"), "control": ("1", "0", "0.0%")}.items():
        row = card.locator(f'.arm[data-arm="{arm}"]')
        await expect(row.locator(".converted")).to_have_text(converted, timeout=LIVE)
        await expect(row.locator(".entered")).to_have_text(entered)
        await expect(row.locator(".rate")).to_have_text(rate)
    # Newcombe's interval for 1 of 2 against 0 of 1: wide, as three devices deserve.
    await expect(card.locator(".uplift")).to_have_text("uplift +50.0 points (95% interval −39.1 to +90.5)")
    page_text = await page.locator("body").inner_text()
    assert all(who.device_id not in page_text for who in [*treated, *held_out])

    # Paused from the page, then resumed: the API says so each time, and it is still version 1 (the
    # document went back exactly as it was read). The devices in it stay where they are.
    await card.locator("button.pause").click()
    await expect(card.locator(".status")).to_have_text("paused")
    paused = await journey(system, "welcome-in")
    assert (paused["active"], paused["version"]) == (False, 1)
    await card.locator("button.resume").click()
    await expect(card.locator(".status")).to_have_text("active")
    resumed = await journey(system, "welcome-in")
    assert (resumed["active"], resumed["version"]) == (True, 1)
    await expect(card.locator('tr[data-step="linger"] .now')).to_have_text("3")
    await expect(page.locator("#journey-error")).to_have_text("")
    assert errors == []
    await page.close()
