"""The campaign editor in the console (Chromium): the product found in the catalogue, the message in
French and English with its preview as a phone shows it, saved through the API, and the API's own
refusal shown next to the field it names."""

from __future__ import annotations

import os

from playwright.async_api import Browser, expect

from tests.conftest import System
from tests.support.builders import SKU, pickup_store
from tests.support.console import signed_in_tab


async def test_a_campaign_is_made_with_its_product_found_and_its_preview_then_listed(
    system: System, browser: Browser
) -> None:
    await pickup_store(system)
    page, errors = await signed_in_tab(browser, system)
    await page.click("#new-campaign")
    editor = page.locator("#campaign-editor")
    await expect(editor).to_be_visible()
    await editor.locator("input[name=campaign_id]").fill("veg-week")
    await editor.locator("select[name=type]").select_option("zone.entered")
    await editor.locator("select[name=store_id]").select_option("rivoli")
    await editor.locator("select[name=zone_id]").select_option("bay-2")
    await editor.locator("input[name=search]").fill("veg")
    await editor.locator(f"li[data-sku='{SKU}']").click()
    await expect(editor.locator("input[name=search]")).to_have_value(SKU)

    # The preview follows the typing, in the language chosen for it.
    await editor.locator("input[name='en.title']").fill("Fresh veg boxes are in")
    await editor.locator("textarea[name='en.body']").fill("Pick one up at bay 2 today.")
    preview = editor.locator(".notification-preview")
    await expect(preview.locator(".title")).to_have_text("Fresh veg boxes are in")
    await expect(preview.locator(".body")).to_have_text("Pick one up at bay 2 today.")
    await editor.locator("input[name='fr.title']").fill("Les paniers de légumes sont là")
    await editor.locator("textarea[name='fr.body']").fill("Retirez-en un à la baie 2 aujourd'hui.")
    await editor.locator("select[name=preview_locale]").select_option("fr")
    await expect(preview.locator(".title")).to_have_text("Les paniers de légumes sont là")
    if path := os.environ.get("ACCUEIL_CAMPAIGN_EDITOR_SCREENSHOT"):  # how docs/console-campaign-editor.png is made
        await editor.screenshot(path=path)

    # What the API refuses is shown next to the field it names, and nothing is saved.
    await editor.locator("input[name='fr.title']").fill("x" * 501)  # past maxlength: the browser cuts it
    await editor.locator("input[name='fr.title']").fill("")
    await editor.locator("button.save").click()
    await expect(editor.locator("[data-error-for='fr.title']")).not_to_be_empty()
    assert (await system.notify.get("/v1/campaigns/veg-week", headers=system.admin)).status_code == 404

    await editor.locator("input[name='fr.title']").fill("Les paniers de légumes sont là")
    await editor.locator("button.save").click()
    await expect(editor.locator(".saved")).to_contain_text("veg-week")
    saved = (await system.notify.get("/v1/campaigns/veg-week", headers=system.admin)).json()
    trigger = {k: v for k, v in saved["trigger"].items() if v is not None}
    assert trigger == {"type": "zone.entered", "store_id": "rivoli", "zone_id": "bay-2"}
    assert saved["sku"] == SKU and saved["active"] is True
    assert saved["message"] == {
        "fr": {"title": "Les paniers de légumes sont là", "body": "Retirez-en un à la baie 2 aujourd'hui."},
        "en": {"title": "Fresh veg boxes are in", "body": "Pick one up at bay 2 today."},
    }
    await expect(page.locator("#campaigns tr[data-campaign='veg-week']")).to_be_visible()

    # Opened again from the list, it edits the same campaign. The editor still shows the saved form
    # (the same id, "saved" said) until the campaign is read back: wait for the form made from it.
    await page.locator("#campaigns tr[data-campaign='veg-week'] button.edit").click()
    await expect(editor.locator("h3")).to_have_text("Campaign veg-week")
    await expect(editor.locator(".saved")).to_be_empty()
    await expect(editor.locator("input[name=campaign_id]")).to_have_value("veg-week")
    # Its product is looked up by its SKU: the preview names it where the text says {product}.
    await editor.locator("textarea[name='en.body']").fill("{product}: pick one up at bay 2 until Sunday.")
    await expect(preview.locator(".body")).to_have_text("Veg box: pick one up at bay 2 until Sunday.")
    await editor.locator("button.save").click()
    await expect(editor.locator(".saved")).to_contain_text("veg-week")
    again = (await system.notify.get("/v1/campaigns/veg-week", headers=system.admin)).json()
    assert again["message"]["en"]["body"] == "{product}: pick one up at bay 2 until Sunday."
    assert errors == []
