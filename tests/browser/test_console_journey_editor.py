"""The journey editor in the console (Chromium), used by a marketer signed in with the retailer's
provider: a journey built step by step with its message previewed as a phone shows it, saved through
the API exactly as built; a message step's product found in the catalogue and named in its preview;
the API's refusal of a step shown next to that step's input, nothing saved; and a saved journey's
devices at each step shown beside its steps as real shoppers walk in."""

from __future__ import annotations

import os
from typing import Any

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from tests.conftest import Configs, System, eventually
from tests.support.builders import SKU, TEXTS, pickup_store, product, shopper
from tests.support.console import walk_into_the_shop
from tests.support.oidc import Provider
from tests.support.operators import add_operator
from tests.support.push_service import LocalPushService

LIVE = 10_000  # ms: the editor polls the results every 3 s


@pytest.fixture
def configs(provider: Provider) -> Configs:
    return provider.settings()


async def marketer_tab(system: System, provider: Provider, browser: Browser) -> tuple[Page, list[str]]:
    """A wide tab on the console, signed in through the provider as a marketer, and its script errors."""
    await add_operator(system, "ana@example.com", "marketer")
    await provider.user("u-ana", email="ana@example.com", email_verified=True)
    page = await browser.new_page(viewport={"width": 1280, "height": 1200})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{system.settings.notify_url}/console")
    await page.click("#sso-signin")
    await page.fill("input[name=sub]", "u-ana")
    await page.click("button[type=submit]:not([value=deny])")
    await expect(page.locator("#who")).to_have_text("ana@example.com · marketer")
    await expect(page.locator("#console")).to_be_visible()
    return page, errors


def step(editor: Locator, n: int) -> Locator:
    return editor.locator(f"li.journey-step[data-index='{n}']")


async def build_welcome(page: Page, sku: str = SKU, wait: str = "1") -> Locator:
    """A new journey: shoppers entering a store zone are welcomed with an offer, then wait an hour."""
    await page.click("#new-journey")
    editor = page.locator("#journey-editor")
    await expect(editor).to_be_visible()
    for name, value in {"journey_id": "welcome-in", "name": "Welcome in"}.items():
        await editor.locator(f"input[name={name}]").fill(value)
    for name, value in {"entry.event": "zone.entered", "entry.zone_kind": "store"}.items():
        await editor.locator(f"select[name='{name}']").select_option(value)
    await expect(editor.locator("li.journey-step")).to_have_count(1)  # a new journey starts with a message
    await step(editor, 0).locator("input[name='steps[0].id']").fill("hello")
    await step(editor, 0).locator("input[name='steps[0].id']").press("Tab")
    await expect(editor.locator("li.journey-step[data-step='hello']")).to_have_count(1)
    hello = step(editor, 0)
    await hello.locator("select[name='steps[0].purpose']").select_option("offers")
    await hello.locator("input[name='steps[0].sku']").fill(sku)
    for locale in ("fr", "en"):
        await hello.locator(f"input[name='steps[0].message.{locale}.title']").fill(TEXTS[locale]["title"])
        await hello.locator(f"textarea[name='steps[0].message.{locale}.body']").fill(TEXTS[locale]["body"])
    await editor.locator("select[name=add_type]").select_option("wait")
    await editor.locator("button.add").click()
    await expect(editor.locator("li.journey-step")).to_have_count(2)
    linger = step(editor, 1)
    await linger.locator("input[name='steps[1].id']").fill("linger")
    await linger.locator("input[name='steps[1].id']").press("Tab")
    await expect(editor.locator("li.journey-step[data-step='linger']")).to_have_count(1)
    await step(editor, 1).locator("input[name='steps[1].for']").fill(wait)
    await step(editor, 1).locator("select[name='steps[1].for.unit']").select_option("h")
    return editor


def without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return [without_nulls(v) for v in value] if isinstance(value, list) else value


WELCOME_STEPS = [
    {"id": "hello", "type": "message", "purpose": "offers", "sku": SKU, "message": TEXTS, "next": "linger"},
    {"id": "linger", "type": "wait", "for": "PT1H"},
]


async def test_a_marketer_builds_a_journey_with_a_message_previewed_and_a_wait_and_saves_it(
    system: System, provider: Provider, browser: Browser
) -> None:
    await pickup_store(system)
    page, errors = await marketer_tab(system, provider, browser)
    editor = await build_welcome(page)

    # The message step's preview, as the campaigns have it, follows the typing in the language chosen.
    preview = step(editor, 0).locator(".notification-preview")
    await step(editor, 0).locator("select[name=preview_locale]").select_option("en")
    await expect(preview.locator(".title")).to_have_text("Welcome")
    await expect(preview.locator(".body")).to_have_text("{product} at 20% off today")
    await step(editor, 0).locator("select[name=preview_locale]").select_option("fr")
    await expect(preview.locator(".title")).to_have_text("Bienvenue")
    await step(editor, 0).locator("input[name='steps[0].message.fr.title']").fill("Bienvenue chez nous")
    await expect(preview.locator(".title")).to_have_text("Bienvenue chez nous")
    await step(editor, 0).locator("input[name='steps[0].message.fr.title']").fill("Bienvenue")

    await editor.locator("button.save").click()
    await expect(editor.locator(".saved")).to_have_text("welcome-in saved: version 1.")
    saved = (await system.notify.get("/v1/journeys/welcome-in", headers=system.admin)).json()
    assert without_nulls(saved["entry"]) == {"event": "zone.entered", "zone_kind": "store"}
    assert (saved["name"], saved["active"], saved["holdout_percent"], saved["version"]) == ("Welcome in", True, 0, 1)
    assert without_nulls(saved["steps"]) == WELCOME_STEPS
    card = page.locator('article.journey[data-journey="welcome-in"]')
    await expect(card.locator("tbody tr[data-step]")).to_have_count(2)

    # Opened again from its card, reordered and saved: the API makes version 2, and the editor says so.
    await card.locator("button.edit").click()
    await expect(editor.locator("h3")).to_have_text("Journey welcome-in · version 1")
    await expect(editor.locator(".version-note")).to_contain_text("makes version 2")
    await expect(step(editor, 1).locator("input[name='steps[1].for']")).to_have_value("1")  # PT1H as loaded
    await step(editor, 1).locator("button.up").click()
    await step(editor, 0).locator("select[name='steps[0].next']").select_option(":below")
    assert await editor.locator("li.journey-step").evaluate_all("items => items.map(i => i.dataset.step)") == [
        "linger",
        "hello",
    ]
    await editor.locator("button.save").click()
    await expect(editor.locator(".saved")).to_contain_text("saved as version 2")
    again = (await system.notify.get("/v1/journeys/welcome-in", headers=system.admin)).json()
    assert again["version"] == 2
    # "the step below" follows the order: the wait now leads to the message, which ends the journey.
    assert without_nulls(again["steps"]) == [
        {"id": "linger", "type": "wait", "for": "PT1H", "next": "hello"},
        {"id": "hello", "type": "message", "purpose": "offers", "sku": SKU, "message": TEXTS},
    ]
    assert errors == []


async def test_a_message_steps_product_is_found_in_the_catalogue_and_named_in_its_preview(
    system: System, provider: Provider, browser: Browser
) -> None:
    await pickup_store(system)
    names = {"fr": "Plant de tomate", "en": "Tomato plant"}
    await product(system, "TOMATO-1", "Tomato plant", 3, category="garden", names=names)
    page, errors = await marketer_tab(system, provider, browser)
    editor = await build_welcome(page)
    hello = step(editor, 0)
    preview = hello.locator(".notification-preview")
    await hello.locator("select[name=preview_locale]").select_option("en")

    # Searched by part of its name, picked: the step names its SKU, the preview the product's name in
    # the language previewed, as the phone would show it.
    await hello.locator("input[name='steps[0].sku']").fill("tomat")
    await hello.locator("li[data-sku='TOMATO-1']").click()
    await expect(hello.locator("input[name='steps[0].sku']")).to_have_value("TOMATO-1")
    await expect(preview.locator(".body")).to_have_text("Tomato plant at 20% off today")
    await hello.locator("select[name=preview_locale]").select_option("fr")
    await expect(preview.locator(".body")).to_have_text("Plant de tomate à -20 % aujourd'hui")

    await editor.locator("button.save").click()
    await expect(editor.locator(".saved")).to_have_text("welcome-in saved: version 1.")
    saved = (await system.notify.get("/v1/journeys/welcome-in", headers=system.admin)).json()
    assert without_nulls(saved["steps"])[0] == {**WELCOME_STEPS[0], "sku": "TOMATO-1"}

    # Opened again, the step's product is looked up by its SKU and named in the preview again.
    await page.locator('article.journey[data-journey="welcome-in"] button.edit').click()
    await expect(editor.locator("h3")).to_have_text("Journey welcome-in · version 1")
    await expect(step(editor, 0).locator(".notification-preview .body")).to_have_text("Tomato plant at 20% off today")
    assert errors == []


async def test_a_step_the_api_refuses_shows_its_error_next_to_that_steps_input_and_nothing_is_saved(
    system: System, provider: Provider, browser: Browser
) -> None:
    await pickup_store(system)
    page, errors = await marketer_tab(system, provider, browser)
    editor = await build_welcome(page, sku="NO-SUCH-BOX", wait="-5")

    # A negative wait: refused by the API's schema, said beside the wait's duration.
    await editor.locator("button.save").click()
    wait_error = step(editor, 1).locator("[data-error-for='steps[1].for']")
    await expect(wait_error).not_to_be_empty()
    await expect(editor.locator("[data-error-for='form']")).to_be_empty()
    assert (await system.notify.get("/v1/journeys/welcome-in", headers=system.admin)).status_code == 404

    # A product inventory does not have: refused by notify, said beside the message's product.
    await step(editor, 1).locator("input[name='steps[1].for']").fill("5")
    await editor.locator("button.save").click()
    sku_error = step(editor, 0).locator("[data-error-for='steps[0].sku']")
    await expect(sku_error).to_contain_text("unknown product 'NO-SUCH-BOX'")
    await expect(wait_error).to_be_empty()
    assert (await system.notify.get("/v1/journeys/welcome-in", headers=system.admin)).status_code == 404

    # The same draft dry-run: the same refusal in the same place, and nothing saved either.
    await sku_error.evaluate("node => (node.textContent = '')")
    await editor.locator("button.dry-run").click()
    await expect(sku_error).to_contain_text("unknown product 'NO-SUCH-BOX'")

    await step(editor, 0).locator("input[name='steps[0].sku']").fill(SKU)
    await editor.locator("button.dry-run").click()
    await expect(editor.locator(".dry-run-result")).to_contain_text("over the last 7 days")
    assert (await system.notify.get("/v1/journeys/welcome-in", headers=system.admin)).status_code == 404
    await editor.locator("button.save").click()
    await expect(editor.locator(".saved")).to_have_text("welcome-in saved: version 1.")
    assert errors == []


async def test_the_editor_shows_a_journeys_devices_at_each_step_as_shoppers_walk_in(
    system: System, provider: Provider, browser: Browser, push: LocalPushService
) -> None:
    await pickup_store(system)
    body = {"name": "Welcome in", "entry": {"event": "zone.entered", "zone_kind": "store"}, "steps": WELCOME_STEPS}
    r = await system.notify.put("/v1/journeys/welcome-in", json=body, headers=system.admin)
    assert r.status_code == 200, r.text
    page, errors = await marketer_tab(system, provider, browser)
    await page.locator('article.journey[data-journey="welcome-in"] button.edit').click()
    editor = page.locator("#journey-editor")
    hello = editor.locator("li.journey-step[data-step='hello'] .step-counts")
    linger = editor.locator("li.journey-step[data-step='linger'] .step-counts")
    await expect(hello.locator(".reached")).to_have_attribute("data-n", "0")
    await expect(linger.locator(".now")).to_have_attribute("data-n", "0")

    # Two shoppers consenting to offers walk into the shop, with real pings to geo: both are sent the
    # welcome and wait at the next step, which the open editor shows without being reopened.
    for _ in range(2):
        await walk_into_the_shop(system, await shopper(system, push, location=True, offers=True))

    async def both_sent() -> dict[str, Any] | None:
        r = await system.notify.get("/v1/journeys/welcome-in/results", headers=system.admin)
        return r.json() if r.json()["steps"]["hello"].get("sent") == 2 else None

    results = await eventually(both_sent)
    await expect(linger.locator(".now")).to_have_attribute("data-n", str(results["now"]["linger"]), timeout=LIVE)
    assert results["now"]["linger"] == 2
    for name, counts in (("hello", hello), ("linger", linger)):
        await expect(counts.locator(".reached")).to_have_attribute("data-n", str(results["steps"][name]["reached"]))
        await expect(counts.locator(".now")).to_have_attribute("data-n", str(results["now"].get(name, 0)))
    await expect(hello.locator(".sent")).to_have_attribute("data-n", str(results["steps"]["hello"]["sent"]))
    await expect(hello.locator(".sent")).to_have_text("Sent 2")
    await expect(linger.locator(".sent")).to_have_count(0)  # a wait sends nothing
    # The message's product, looked up by its SKU, is named in its preview as the phones were sent it.
    welcome = editor.locator("li.journey-step[data-step='hello'] .notification-preview .body")
    await expect(welcome).to_have_text("Veg box at 20% off today")
    if path := os.environ.get("ACCUEIL_JOURNEY_SCREENSHOT"):  # how docs/console-journey.png is made
        await editor.screenshot(path=path)
    assert errors == []
