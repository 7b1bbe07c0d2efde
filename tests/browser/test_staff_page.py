"""The staff page in a real browser (Debian's Chromium, headless, driven by Playwright), fed by a real
trip through the three running services."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import Browser, Page, expect

from shared.geodesy import destination
from tests.conftest import System, eventually
from tests.support.builders import BAY, customer, pickup_store, ping, place_order, staff_member, start_trip, upload


async def sign_in(page: Page, base_url: str, token: str) -> None:
    await page.goto(f"{base_url}/staff")
    await page.fill("#token", token)
    await page.click("#signin button[type=submit]")
    await expect(page.locator("#live")).to_have_class(re.compile(r"\bon\b"))
    await expect(page.locator("#signin")).to_be_hidden()


async def test_staff_see_a_car_coming_then_arriving_and_say_they_are_going_out(
    system: System, browser: Browser
) -> None:
    await pickup_store(system)
    alex = await staff_member(system, name="Alex")
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, system.settings.notify_url, alex.token)
    await expect(page.locator("#who")).to_have_text("Alex")
    await expect(page.locator("#empty")).to_be_visible()
    await expect(page.locator("body")).to_have_attribute("data-worker", "registered")  # the service worker

    # Camille is 300 m away, in slow traffic: staff see her coming, with the ETA counting down.
    camille = await customer(system, None)
    order_id = await place_order(system, camille, name="Camille")
    await start_trip(system, camille, order_id)
    now = datetime.now(UTC)
    slow = [
        {**ping(*destination(*BAY, 90, d), now - timedelta(seconds=s), accuracy_m=8), "speed_mps": 2}
        for d, s in ((340, 34), (300, 30))
    ]
    await upload(system, camille, slow)
    card = page.locator(".card")
    await expect(card).to_have_count(1)
    await expect(card).to_have_class(re.compile(r"\bapproaching\b"))
    await expect(card.locator(".name")).to_have_text("Camille")
    await expect(card.locator(".ref")).to_have_text(order_id[-4:].upper())
    eta = card.locator(".eta")
    await expect(eta).to_have_text(re.compile(r"^\d+:\d\d$"))
    before = await eta.text_content()
    await expect(eta).not_to_have_text(before)  # counting down

    # She pulls into bay 2: the card turns to an arrival, flashes, and the cue fires once.
    parked = [{**ping(*BAY, datetime.now(UTC) - timedelta(seconds=s), accuracy_m=5), "speed_mps": 0} for s in (3, 0)]
    await upload(system, camille, parked)
    await expect(card).to_have_class(re.compile(r"\barrived\b.*\bflash\b"))
    await expect(card.locator(".text")).to_contain_text("Camille has arrived — bay 2")
    await expect(page.locator("body")).to_have_attribute("data-cues", "1")
    await expect(page).to_have_title(re.compile("Camille"))

    # Alex taps "On my way out": recorded by notify, shown on the page.
    await card.locator("button.ack").click()
    await expect(card.locator(".acked")).to_have_text("Alex is on the way out")
    alerts = (await system.notify.get("/v1/stores/rivoli/alerts", headers=alex.auth)).json()["alerts"]
    assert (alerts[0]["kind"], alerts[0]["acked_by_name"]) == ("arrived", "Alex")

    # A reload keeps Alex signed in, and the board comes back from the stream.
    await page.reload()
    await expect(page.locator(".card .acked")).to_have_text("Alex is on the way out")

    # The order is handed over: the trip ends and the card goes.
    r = await system.inventory.post(f"/v1/orders/{order_id}/ready", headers=alex.auth)
    assert r.status_code == 200, r.text
    r = await system.inventory.post(f"/v1/orders/{order_id}/collected", headers=alex.auth)
    assert r.status_code == 200, r.text
    await expect(page.locator(".card")).to_have_count(0)
    await expect(page.locator("#empty")).to_be_visible()
    assert errors == []
    await page.close()  # before the services stop: an open stream would hold notify's shutdown


async def test_a_token_that_is_not_a_staff_token_is_refused_on_the_page(system: System, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(f"{system.settings.notify_url}/staff")
    await page.fill("#token", "not a token")
    await page.click("#signin button[type=submit]")
    await expect(page.locator("#signin-error")).to_have_text("This is not a staff token.")
    await eventually(lambda: _hidden(page, "#board"))
    await page.close()


async def _hidden(page: Page, selector: str) -> bool:
    return await page.locator(selector).is_hidden()
