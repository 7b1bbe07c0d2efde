"""The shopper page and the SDK under it in a real browser (Debian's Chromium, headless, driven by
Playwright): its position emulated from the street to the store, against the three running services."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Worker, expect

from shared.db import connect
from shared.events import PURPOSES
from shared.geodesy import destination
from tests.conftest import System, eventually
from tests.support.builders import BAY, SKU, pickup_store, staff_member
from tests.support.push_service import LocalPushService, subscribe


def position(lat: float, lng: float, accuracy: float = 6) -> dict[str, float]:
    return {"latitude": lat, "longitude": lng, "accuracy": accuracy}


async def open_shop(system: System, context: BrowserContext, errors: list[str]) -> Page:
    """The page as a shopper opens it, ready (no device yet: that waits for the first save)."""
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{system.settings.notify_url}/shop?store=rivoli")
    await expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    return page


async def stored_device(page: Page) -> dict[str, str] | None:
    """The device the page keeps (its id and token), if it registered one."""
    kept = await page.evaluate("localStorage.getItem('accueil.device')")
    return json.loads(kept) if kept else None


async def consent(page: Page, *purposes: str) -> tuple[str, dict[str, str]]:
    """Tick these purposes and save: the device the page registered (at its first save), and its token."""
    await expect(page.locator("#purposes input[type=checkbox]")).to_have_count(len(PURPOSES))
    for purpose in purposes:
        await page.check(f"#purposes input[name={purpose}]")
    await page.evaluate("delete document.body.dataset.consent")  # a second save is seen anew
    await page.click("#save-consent")
    await expect(page.locator("body")).to_have_attribute("data-consent", "saved")
    device = await stored_device(page)
    assert device is not None
    return device["device_id"], System.bearer(device["token"])


async def count_devices(system: System) -> int:
    conn = await connect(system.settings.database_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM notify.devices"))
    finally:
        await conn.close()


async def test_a_visit_registers_nothing_until_the_first_save(system: System, browser: Browser) -> None:
    await pickup_store(system)
    context = await browser.new_context(locale="en-GB")
    requests: list[str] = []
    context.on("request", lambda r: requests.append(f"{r.method} {r.url}"))

    def registrations() -> list[str]:
        return [r for r in requests if r.startswith("POST ") and r.endswith("/v1/devices")]

    errors: list[str] = []
    page = await open_shop(system, context, errors)

    # Opened and reopened without a save: the choices are there, from the public notice, and nothing
    # is created on the server. (The page's calls were seen: the notice was fetched both times.)
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    await expect(page.locator("#purposes input[type=checkbox]")).to_have_count(len(PURPOSES))
    assert len([r for r in requests if "/v1/privacy" in r]) == 2, requests
    assert registrations() == []
    assert await stored_device(page) is None
    assert await count_devices(system) == 0
    await expect(page.locator("#products")).to_contain_text("Save your choices first")

    # Push asked for before any save: the page says to save first, and still registers nothing.
    await page.click("#enable-push")
    await expect(page.locator("#push-status")).to_contain_text("Save your choices first")
    assert registrations() == [] and await count_devices(system) == 0

    # The first save registers one device and records the answer with that device's token.
    device_id, auth = await consent(page, "pickup_updates")
    assert len(registrations()) == 1 and await count_devices(system) == 1
    recorded = (await system.notify.get(f"/v1/devices/{device_id}/consents", headers=auth)).json()
    assert recorded["purposes"] == {**dict.fromkeys(PURPOSES, False), "pickup_updates": True}, recorded
    assert len(recorded["history"]) == 1
    await expect(page.locator("#products")).to_contain_text("Veg box")  # what needs the device follows

    # A later save, and a later visit, use the same device.
    assert await consent(page, "offers") == (device_id, auth)
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    await expect(page.locator("#purposes input[name=offers]")).to_be_checked()
    assert len(registrations()) == 1 and await count_devices(system) == 1
    recorded = (await system.notify.get(f"/v1/devices/{device_id}/consents", headers=auth)).json()
    assert [h["purposes"]["offers"] for h in recorded["history"]] == [False, True], recorded
    assert errors == []
    await context.close()


async def reopen_a_day_later(page: Page) -> None:
    """The page opened again, its token obtained two days ago."""
    await page.evaluate(
        "(() => { const d = JSON.parse(localStorage.getItem('accueil.device'));"
        " d.obtained_at = new Date(Date.now() - 2 * 86400000).toISOString();"
        " localStorage.setItem('accueil.device', JSON.stringify(d)); })()"
    )
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "yes")


async def test_a_day_old_token_is_traded_for_a_fresh_one_and_an_erased_device_forgotten(
    system: System, browser: Browser
) -> None:
    await pickup_store(system)
    context = await browser.new_context(locale="en-GB")
    errors: list[str] = []
    page = await open_shop(system, context, errors)
    device_id, old_auth = await consent(page, "pickup_updates")
    kept = await stored_device(page)
    assert kept is not None and kept["expires_at"] > kept["obtained_at"]

    # A day later the page opens again: the SDK trades the token, notify refuses the old one.
    await reopen_a_day_later(page)
    fresh = await stored_device(page)
    assert fresh is not None and fresh["device_id"] == device_id and fresh["token"] != kept["token"]
    consents = f"/v1/devices/{device_id}/consents"

    async def old_refused() -> bool:
        return (await system.notify.get(consents, headers=old_auth)).status_code == 401

    assert await eventually(old_refused, timeout=5)
    assert (await system.notify.get(consents, headers=System.bearer(fresh["token"]))).status_code == 200
    await expect(page.locator("#purposes input[name=pickup_updates]")).to_be_checked()

    # Reopened the same day: nothing to trade.
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    assert (await stored_device(page) or {}).get("token") == fresh["token"]

    # Erased meanwhile (say, by the shopper from another screen), then a day passes: the page forgets
    # the device, asks for a first save again, and that save registers a new one.
    erased = await system.notify.delete(f"/v1/devices/{device_id}", headers=System.bearer(fresh["token"]))
    assert erased.status_code in (200, 202), erased.text
    await reopen_a_day_later(page)
    assert await stored_device(page) is None
    await expect(page.locator("#products")).to_contain_text("Save your choices first")
    new_device, _ = await consent(page, "pickup_updates")
    assert new_device != device_id
    assert errors == []
    await context.close()


async def test_my_data_shows_the_choices_downloads_receipts_and_export_and_erases_everything(
    system: System, browser: Browser
) -> None:
    await pickup_store(system)
    context = await browser.new_context(locale="fr-FR", accept_downloads=True)
    errors: list[str] = []
    page = await open_shop(system, context, errors)
    device_id, auth = await consent(page, "pickup_updates")
    await consent(page, "offers")
    # A friendly label, never the raw id.
    await expect(page.locator("#device")).to_have_text("Vos choix sont gardés pour cet appareil")
    assert device_id not in await page.locator("body").inner_text()
    await expect(page.locator("#history li")).to_have_count(2)
    await expect(page.locator("#history li").nth(1)).to_contain_text("Offres")

    async with page.expect_download() as receipts_download:
        await page.click("#download-receipts")
    receipts = json.loads((await (await receipts_download.value).path()).read_text())
    history = (await system.notify.get(f"/v1/devices/{device_id}/consents", headers=auth)).json()["history"]
    assert [r["receipt"] for r in receipts] == [h["receipt"] for h in history] and len(receipts) == 2

    async with page.expect_download() as export_download:
        await page.click("#download-export")
    exported = json.loads((await (await export_download.value).path()).read_text())
    assert exported["device_id"] == device_id and exported["notify"]["consents"]

    # Erasing asks first; "keep" keeps everything.
    await page.click("#erase")
    await expect(page.locator("#erase-dialog")).to_be_visible()
    await page.click("#erase-cancel")
    assert (await system.notify.get(f"/v1/devices/{device_id}/consents", headers=auth)).status_code == 200
    await page.click("#erase")
    await page.click("#erase-confirm")
    await expect(page.locator("body")).to_have_attribute("data-erased", "yes")
    assert await stored_device(page) is None
    assert (await system.notify.get(f"/v1/devices/{device_id}/consents", headers=auth)).status_code == 401
    assert await count_devices(system) == 0
    await expect(page.locator("#my-data")).to_be_hidden()
    assert errors == []
    await context.close()


async def order(page: Page, name: str = "Camille") -> None:
    await page.fill("#name", name)
    await page.click(f"#products button[data-sku={SKU}]")
    await expect(page.locator("body")).to_have_attribute("data-order", "reserved")


async def test_a_shopper_consents_orders_and_drives_in_from_the_page(system: System, browser: Browser) -> None:  # noqa: F811
    await pickup_store(system)
    alex = await staff_member(system, name="Alex")
    street = destination(*BAY, 90, 900)  # outside the store's 800 m approach zone
    context = await browser.new_context(
        locale="fr-FR",
        geolocation=position(*street),
        permissions=["geolocation"],
        viewport={"width": 480, "height": 900},
    )
    errors: list[str] = []
    page = await open_shop(system, context, errors)

    # The choices are notify's privacy notice, in the device's language; what is saved is recorded with it.
    await expect(page.locator("#purposes")).to_contain_text("savoir quand vous êtes dans un magasin")
    await expect(page.locator("#save-consent")).to_have_text("Enregistrer mes choix")
    device_id, auth = await consent(page, "location", "pickup_updates")
    r = await system.notify.get(f"/v1/devices/{device_id}/consents", headers=auth)
    recorded = r.json()
    assert recorded["purposes"] == {
        "location": True,
        "pickup_updates": True,
        "offers": False,
        "product_tips": False,
    }, r.text
    assert "savoir quand vous êtes" in recorded["history"][-1]["shown"]
    assert recorded["policy_version"].startswith("notice-")

    # An order for pickup, then "I'm on my way" (J'arrive): geo starts the trip.
    await expect(page.locator("#products")).to_contain_text("Veg box")
    await order(page)
    await page.click("#on-my-way")
    await expect(page.locator("body")).to_have_attribute("data-trip", re.compile("started|approaching"))
    [trip] = (await system.geo.get(f"/v1/devices/{device_id}/data", headers=auth)).json()["trips"]
    assert trip["status"] in ("started", "approaching")

    # The car drives in, 45 m a second (the page batches the fixes every 2 s). For a stretch the
    # phone is offline: its positions wait in the page's storage and go when it is back.
    body = page.locator("body")
    for step, metres in enumerate(range(900, 0, -45)):
        if step == 6:
            await context.set_offline(True)
        if step == 11:
            await expect(body).not_to_have_attribute("data-pings-queued", "0")
            await context.set_offline(False)
        await context.set_geolocation(position(*destination(*BAY, 90, metres), accuracy=8))
        await asyncio.sleep(1)
    for offset in (2, 1, 0):  # parked in bay 2
        await context.set_geolocation(position(*destination(*BAY, 0, offset), accuracy=4))
        await asyncio.sleep(1)

    # Staff are alerted, the page follows the trip to its arrival, and every position reached geo.
    async def arrival() -> list[dict[str, Any]]:
        alerts = (await system.notify.get("/v1/stores/rivoli/alerts", headers=alex.auth)).json()["alerts"]
        return [a for a in alerts if a["kind"] == "arrived"]

    [arrived] = await eventually(arrival, timeout=20)
    assert arrived["display_name"] == "Camille" and arrived["bay"] == "bay 2", arrived
    await expect(body).to_have_attribute("data-trip", "arrived", timeout=15_000)
    await expect(page.locator("#trip-status")).to_contain_text("Vous êtes arrivé")
    await expect(body).to_have_attribute("data-pings-queued", "0")
    accepted = int(await body.get_attribute("data-pings-accepted") or 0)
    data = (await system.geo.get(f"/v1/devices/{device_id}/data", headers=auth)).json()
    assert accepted >= 20 and len(data["pings"]) == accepted, (accepted, len(data["pings"]))
    assert {"approach", "bay-2"} <= {v["zone_id"] for v in data["current_visits"]}, data["current_visits"]
    assert errors == []
    await context.close()


async def test_product_tips_are_offered_unticked_and_granted_only_when_ticked(
    system: System,
    browser: Browser,  # noqa: F811
) -> None:
    await pickup_store(system)
    context = await browser.new_context(locale="fr-FR")
    errors: list[str] = []
    page = await open_shop(system, context, errors)

    # Shown in the device's language with what it is for, and left unticked: nobody has said yes yet.
    tips = page.locator("#purposes input[name=product_tips]")
    choice = page.locator("#purposes li").filter(has=page.locator("input[name=product_tips]"))
    await expect(choice).to_contain_text("Conseils produit")
    await expect(choice).to_contain_text("aucun conseil n'est envoyé")
    await expect(tips).not_to_be_checked()

    # Ticked and saved through the SDK: the server records the yes, with the text that was shown.
    device_id, auth = await consent(page, "product_tips")
    r = await system.notify.get(f"/v1/devices/{device_id}/consents", headers=auth)
    recorded = r.json()
    assert recorded["purposes"] == {**dict.fromkeys(PURPOSES, False), "product_tips": True}, r.text
    assert "product_tips: " in recorded["history"][-1]["shown"]

    # Opened again, the page shows the answer on record.
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    await expect(page.locator("#purposes input[name=product_tips]")).to_be_checked()
    assert errors == []
    await context.close()


async def test_push_the_page_cannot_subscribe_here_but_its_worker_shows_and_reports_a_real_push(
    system: System,
    browser: Browser,  # noqa: F811
    push: LocalPushService,
) -> None:
    await pickup_store(system)
    alex = await staff_member(system, name="Alex")
    context = await browser.new_context(locale="en-GB", permissions=["notifications"])
    errors: list[str] = []
    page = await open_shop(system, context, errors)
    device_id, auth = await consent(page, "pickup_updates")  # the device and its worker come with the first save
    await expect(page.locator("body")).to_have_attribute("data-worker", "registered")

    # Headless Chromium has no push service: the SDK says so plainly and the page carries on.
    await page.click("#enable-push")
    await expect(page.locator("body")).to_have_attribute("data-push", "push_failed", timeout=30_000)
    await expect(page.locator("#push-status")).to_contain_text("Notifications could not be turned on")
    await expect(page.locator("#push-status")).to_contain_text("the browser could not subscribe")

    # The same device subscribed where a push service stands in (it checks VAPID and decrypts):
    # the "order ready" update reaches it, encrypted for this device.
    sub = await subscribe(system.notify, push, device_id, auth)
    await order(page)
    orders = (await system.inventory.get(f"/v1/devices/{device_id}/orders", headers=auth)).json()["orders"]
    r = await system.inventory.post(f"/v1/orders/{orders[0]['order_id']}/ready", headers=alex.auth)
    assert r.status_code == 200, r.text
    [message] = await eventually(lambda: _inbox(push, sub))
    assert message["purpose"] == "pickup_updates" and message["tag"], message

    # Handed to the page's real service worker as a push event: it shows it under the message's tag
    # and tells notify it was shown; a click is reported too.
    worker = await deliver_to_worker(context, page, system.settings.notify_url, message)
    shown_tags = "async () => (await self.registration.getNotifications()).map((n) => [n.title, n.tag])"
    assert await eventually(lambda: worker.evaluate(shown_tags)) == [[message["title"], message["tag"]]]
    await eventually(lambda: _reported(system, message["id"], "shown"))
    click = "async () => openMessage((await self.registration.getNotifications())[0])"
    assert await worker.evaluate(click) == 200
    await eventually(lambda: _reported(system, message["id"], "clicked"))
    assert errors == []
    await context.close()


async def _inbox(push: LocalPushService, sub: Any) -> list[dict[str, Any]]:
    return push.inbox(sub)


async def _ready(registrations: list[dict[str, Any]]) -> bool:
    return any(r["scopeURL"].endswith("/sdk/") for r in registrations)


async def deliver_to_worker(context: BrowserContext, page: Page, origin: str, payload: dict[str, Any]) -> Worker:
    """Hand a decrypted push to the page's real service worker, as the browser does when one arrives
    (Chromium's DevTools protocol): the worker, to ask what it showed."""
    worker = context.service_workers[0] if context.service_workers else await context.wait_for_event("serviceworker")
    cdp = await context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    await cdp.send("ServiceWorker.enable")
    await eventually(lambda: _ready(registrations))
    [registration] = [r for r in registrations if r["scopeURL"].endswith("/sdk/") and not r.get("isDeleted")]
    data = json.dumps(payload)
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registration["registrationId"], "data": data},
    )
    return worker


async def _reported(system: System, message_id: int, kind: str) -> bool:
    """What notify recorded of the message (read, not reported: a report from here would count first)."""
    conn = await connect(system.settings.database_url)
    try:
        types = await conn.fetchval(
            "SELECT array_agg(type) FROM notify.message_events WHERE message_id = $1", message_id
        )
    finally:
        await conn.close()
    return kind in (types or [])
