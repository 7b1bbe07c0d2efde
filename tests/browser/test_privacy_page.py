"""The privacy notice as a page a person reads: French or English by the browser's language, the same
data as GET /v1/privacy, readable on a 320 px phone, and, with the shop page and the console, free of
serious or critical accessibility violations (axe-core, in Chromium)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, expect

from tests.conftest import System
from tests.support.accessibility import serious_violations
from tests.support.builders import pickup_store


async def test_the_notice_reads_in_the_browsers_language_and_says_what_the_api_says(
    system: System, browser: Browser
) -> None:
    for locale, lang, title in (("fr-FR", "fr", "Votre vie privée"), ("en-GB", "en", "Your privacy")):
        context = await browser.new_context(locale=locale)
        page = await context.new_page()
        response = await page.goto(f"{system.settings.notify_url}/privacy")
        assert response is not None and response.status == 200
        assert response.headers["content-language"] == lang
        assert "default-src 'self'" in response.headers["content-security-policy"]
        await expect(page.locator("h1")).to_have_text(title)
        assert await page.evaluate("document.documentElement.lang") == lang
        notice = (await system.notify.get("/v1/privacy", params={"lang": lang})).json()
        body = await page.locator("main").inner_text()
        for what in notice["purposes"].values():  # every purpose, in the page's language
            assert what in body
        for item in notice["collects"]["notify"]:
            assert item["what"] in body
        assert notice["never"] in body
        await context.close()


async def test_the_language_switch_and_a_320_px_phone(system: System, browser: Browser) -> None:
    context = await browser.new_context(locale="en-GB", viewport={"width": 320, "height": 640})
    page = await context.new_page()
    await page.goto(f"{system.settings.notify_url}/privacy")
    await page.click("text=Français")
    await expect(page.locator("h1")).to_have_text("Votre vie privée")
    # Nothing wider than the screen: no sideways scrolling to read a row.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await context.close()


async def test_privacy_shop_and_console_have_no_serious_accessibility_violation(
    system: System, browser: Browser
) -> None:
    await pickup_store(system)
    context = await browser.new_context(locale="fr-FR")
    page = await context.new_page()
    found: dict[str, list[dict[str, Any]]] = {}
    for path in ("/privacy", "/privacy?lang=en", "/shop?store=rivoli", "/console"):
        await page.goto(f"{system.settings.notify_url}{path}")
        if path.startswith("/shop"):
            await expect(page.locator("body")).to_have_attribute("data-ready", "yes")
            await expect(page.locator("#privacy-link")).to_have_attribute(
                "href", "http://127.0.0.1:" + str(system.running.ports["notify"]) + "/privacy?lang=fr"
            )
        found[path] = await serious_violations(page)
    assert found == {path: [] for path in found}, {p: [v["id"] for v in vs] for p, vs in found.items()}
    # The check sees what it should: an image with no text alternative is critical.
    await page.evaluate("document.body.append(Object.assign(document.createElement('img'), {src: '/x.png'}))")
    assert "image-alt" in [v["id"] for v in await serious_violations(page)]
    await context.close()
