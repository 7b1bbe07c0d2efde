"""A notification's "Why?" in a real browser (Debian's Chromium, headless): the page's service worker
offers it, in the message's language, for a push that says why it came; it leads to the shop page at
that message, which stands out with its why under it.

Headless Chromium opens no window from a worker without a user's gesture, so the worker is asked,
in its own scope, where its click handler would take the shopper for "Why?" (`whereTo`, what
`openMessage` opens), and the page is opened there as the handler would open it."""

from __future__ import annotations

import os
from typing import Any

from playwright.async_api import Browser, expect

from tests.browser.test_shop_page import _inbox, consent, deliver_to_worker, open_shop
from tests.conftest import System, eventually
from tests.support.builders import DAYTIME, Shopper, pickup_store, place_order, product, timezone_at
from tests.support.push_service import LocalPushService, subscribe


async def test_why_leads_from_the_notification_to_the_message_and_its_why(
    system: System, browser: Browser, push: LocalPushService
) -> None:
    await pickup_store(system)
    await product(system, "YOG-1", "Plain yoghurt", 0, category="dairy", names={"fr": "Yaourt nature"})
    context = await browser.new_context(
        locale="fr-FR",
        timezone_id=timezone_at(DAYTIME),  # midday on the phone: outside quiet hours, whenever this runs
        permissions=["notifications"],
        viewport={"width": 480, "height": 860},
    )
    errors: list[str] = []
    page = await open_shop(system, context, errors)
    device_id, auth = await consent(page, "pickup_updates")
    await expect(page.locator("body")).to_have_attribute("data-worker", "registered")
    sub = await subscribe(system.notify, push, device_id, auth)

    # Two messages: yoghurt back in stock (asked for here), then the order ready, pushed to this device.
    r = await system.notify.put(f"/v1/devices/{device_id}/back-in-stock/rivoli/YOG-1", headers=auth)
    assert r.status_code == 200, r.text
    r = await system.inventory.put("/v1/stores/rivoli/stock/YOG-1", json={"on_hand": 4}, headers=system.admin)
    assert r.status_code == 200, r.text
    await eventually(lambda: _inbox(push, sub))
    order_id = await place_order(system, Shopper(device_id, auth))
    r = await system.inventory.post(f"/v1/orders/{order_id}/ready", headers=system.admin)
    assert r.status_code == 200, r.text
    [_, ready] = await eventually(lambda: _at_least(push.inbox(sub), 2))
    assert ready["purpose"] == "pickup_updates" and ready["lang"] == "fr"
    logged = (await system.notify.get(f"/v1/devices/{device_id}/messages", headers=auth)).json()["messages"]
    [message] = [m for m in logged if m["id"] == ready["id"]]
    assert ready["why"] == message["why"]["fr"] and "Rivoli" in ready["why"]

    # The decrypted push, handed to the page's real worker: shown with a "Pourquoi ?" action.
    worker = await deliver_to_worker(context, page, system.settings.notify_url, ready)
    actions = (
        "async () => (await self.registration.getNotifications()).map((n) => n.actions.map((a) => [a.action, a.title]))"
    )
    assert await eventually(lambda: worker.evaluate(actions)) == [[["why", "Pourquoi ?"]]]

    # "Why?" leads to the shop page at this message (a plain click still opens the page itself).
    where = (
        "async (action) => whereTo((await self.registration.getNotifications())[0].data, action, await savedDevice())"
    )
    target = await worker.evaluate(where, "why")
    assert target == f"{system.settings.notify_url}/shop?store=rivoli#message-{message['id']}"
    assert await worker.evaluate(where, "") == f"{system.settings.notify_url}/shop?store=rivoli"

    opened = await context.new_page()
    opened.on("pageerror", lambda error: errors.append(str(error)))
    await opened.goto(target)
    linked = opened.locator(f"#message-{message['id']}")
    await expect(linked).to_have_attribute("aria-current", "true")
    await expect(linked.locator(".why")).to_have_text(message["why"]["fr"])
    await expect(linked).to_be_in_viewport()
    await expect(opened.locator("#messages li[aria-current]")).to_have_count(1)  # only the one opened at
    await expect(opened.locator("#messages li .why")).to_have_count(2)  # every message shows its why
    if path := os.environ.get("ACCUEIL_SHOP_WHY_SCREENSHOT"):  # how docs/shop-why.png is made
        await opened.screenshot(path=path)
    assert errors == []
    await context.close()


async def _at_least(found: list[dict[str, Any]], count: int) -> list[dict[str, Any]] | None:
    return found if len(found) >= count else None
