"""Switching the language in a real browser: on the console and on the shop page every text a person
sees is said again in the other language, from notify's catalogue, and none is left as its raw key.
The shop page's "My data" picture in the docs is taken here."""

from __future__ import annotations

import os

from playwright.async_api import Browser, Page, expect

from services.notify import catalogue
from tests.browser.test_shop_page import consent, open_shop, order
from tests.conftest import ADMIN_TOKEN, System, eventually
from tests.support.builders import pickup_store, staff_member
from tests.support.console import console_store, sign_in
from tests.support.push_service import LocalPushService, subscribe

# An element whose text is still its key; then any key of the page's part in what a person reads
# (keys with a dot or an underscore: a plain word such as "pause" is a text in its own right).
UNTRANSLATED = """() => [...document.querySelectorAll('[data-i18n], [data-t]')]
    .filter((node) => node.textContent === (node.dataset.i18n || node.dataset.t))
    .map((node) => node.textContent)"""


async def no_raw_key(page: Page, part: str) -> None:
    assert await page.evaluate(UNTRANSLATED) == []
    shown = await page.locator("body").inner_text()
    keys = [key.removeprefix(f"{part}.") for key in catalogue.texts("en") if key.startswith(f"{part}.")]
    assert [key for key in keys if ("." in key or "_" in key) and key in shown] == []


async def test_the_console_switches_every_text_to_french_and_back(system: System, browser: Browser) -> None:
    await console_store(system)
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, system.settings.notify_url, ADMIN_TOKEN)
    await expect(page.locator("#console")).to_be_visible()
    await expect(page.locator('[data-store="rivoli"] button.edit-zones')).to_have_text("Edit zones")
    await expect(page.locator("h2", has_text="Campaigns")).to_be_visible()
    await expect(page.locator("#signout")).to_have_text("Sign out")
    await no_raw_key(page, "console")

    await page.select_option("#language", "fr")
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.locator("h2", has_text="Campagnes")).to_be_visible()
    await expect(page.locator("#signout")).to_have_text("Se déconnecter")
    await expect(page.locator('[data-store="rivoli"] button.edit-zones')).to_have_text("Modifier les zones")
    await expect(page.locator("#audit-section h2")).to_contain_text("Journal")
    await expect(page.locator("#decisions th").first).to_have_text("Quand")
    assert await page.title() == "accueil · console"
    await no_raw_key(page, "console")

    # Kept in this browser: the next visit opens in French.
    await page.reload()
    await expect(page.locator("#console")).to_be_visible()
    await expect(page.locator("h2", has_text="Campagnes")).to_be_visible()
    await page.select_option("#language", "en")
    await expect(page.locator("h2", has_text="Campaigns")).to_be_visible()
    await expect(page.locator("#live")).to_contain_text("live")
    await no_raw_key(page, "console")
    assert errors == []
    await context.close()


async def test_the_shop_page_switches_every_text_and_the_sdk_speaks_the_chosen_language(
    system: System, browser: Browser, push: LocalPushService
) -> None:
    await pickup_store(system)
    alex = await staff_member(system, name="Alex")
    context = await browser.new_context(locale="en-GB", viewport={"width": 480, "height": 900})
    errors: list[str] = []
    page = await open_shop(system, context, errors)
    await expect(page.locator("#consent-title")).to_have_text("Your choices")
    await expect(page.locator("#purposes")).to_contain_text("Pickup updates")
    await no_raw_key(page, "shop")

    # A shopper with a history, an order and the message it brought: "My data" has something to show.
    device_id, auth = await consent(page, "location", "pickup_updates")
    await consent(page, "pickup_updates", "offers")
    await subscribe(system.notify, push, device_id, auth)
    await order(page)
    orders = (await system.inventory.get(f"/v1/devices/{device_id}/orders", headers=auth)).json()["orders"]
    r = await system.inventory.post(f"/v1/orders/{orders[0]['order_id']}/ready", headers=alex.auth)
    assert r.status_code == 200, r.text

    async def message_decided() -> bool:
        r = await system.notify.get(f"/v1/devices/{device_id}/messages", headers=auth)
        return any(m["status"] == "sent" for m in r.json()["messages"])

    assert await eventually(message_decided, timeout=20)
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    my_data = page.locator("#my-data")
    await expect(my_data.locator("h2")).to_have_text("My data")
    await expect(my_data.locator("#history li")).to_have_count(2)
    await expect(my_data.locator("#messages li").first).to_contain_text("Your order is ready")
    await expect(my_data.locator("#messages .why").first).to_contain_text("You said yes to pickup updates")
    await expect(page.locator("body")).to_have_attribute("data-order", "ready")
    await no_raw_key(page, "shop")
    if path := os.environ.get("ACCUEIL_SHOP_MY_DATA_SCREENSHOT"):  # how docs/shop-my-data.png is made
        await my_data.screenshot(path=path)

    await page.select_option("#language", "fr")
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await expect(page.locator("#consent-title")).to_have_text("Vos choix")
    await expect(my_data.locator("h2")).to_have_text("Mes données")
    await expect(page.locator("#purposes")).to_contain_text("Suivi du retrait")
    await expect(page.locator("#purposes input[name=offers]")).to_be_checked()
    await expect(my_data.locator("#history li").nth(1)).to_contain_text("Offres")
    await expect(my_data.locator("#messages-title")).to_have_text("Messages pour cet appareil")
    # The why was written in both languages when the message was decided: the page shows the chosen one.
    await expect(my_data.locator("#messages .why").first).not_to_contain_text("You said yes")
    await expect(page.locator("#order-status")).to_contain_text("prête à retirer")
    await expect(page.locator("#device")).to_have_text("Vos choix sont gardés pour cet appareil")
    privacy = f"{system.settings.notify_url}/privacy?lang=fr"
    await expect(page.locator("#privacy-link")).to_have_attribute("href", privacy)
    assert await page.title() == "accueil · boutique"
    await no_raw_key(page, "shop")

    # The SDK keeps the choice: the next visit is in French whatever the browser says.
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    await expect(page.locator("#consent-title")).to_have_text("Vos choix")
    await page.select_option("#language", "en")
    await expect(page.locator("#consent-title")).to_have_text("Your choices")
    await expect(page.locator("#order-status")).to_contain_text("ready to collect")
    await no_raw_key(page, "shop")
    assert errors == []
    await context.close()
