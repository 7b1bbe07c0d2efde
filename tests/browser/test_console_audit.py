"""The console's audit section in a real browser: the admin sees the latest changes newest first, with
who made them, the call and what changed, and a change made meanwhile shows within a poll or two."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from shared.auth import TokenSigner
from tests.browser.test_console_page import sign_in
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System, eventually
from tests.support.builders import SKU, TEXTS
from tests.support.console import console_store

LIVE = 25_000  # ms: the section polls every 10 s


async def test_the_admin_sees_the_latest_changes_with_who_made_them(system: System, browser: Browser) -> None:
    await console_store(system)

    async def logged() -> bool:
        r = await system.notify.get("/v1/audit", headers=system.admin)
        return any(e["action"] == "PUT /v1/campaigns/welcome" for e in r.json()["entries"])

    await eventually(logged)
    page = await browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, system.settings.notify_url, ADMIN_TOKEN)

    rows = page.locator("#audit tbody tr")
    await expect(page.locator("#audit-section")).to_be_visible()
    await expect(rows.first.locator("td.action")).to_have_text("PUT /v1/campaigns/welcome")
    await expect(rows.first.locator("td.actor")).to_have_text("admin")
    await expect(rows.first.locator("td.change")).to_have_text("created")
    await expect(page.locator("#audit td.action", has_text="PUT /v1/stores/rivoli/zones/fresh")).to_have_count(1)

    # An operator pauses the campaign meanwhile: it comes first, saying what changed.
    ops = TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("admin", "ops@example.com", ttl_s=600)
    body = {"trigger": {"type": "zone.entered", "zone_kind": "store"}, "sku": SKU, "message": TEXTS, "active": False}
    r = await system.notify.put("/v1/campaigns/welcome", json=body, headers=System.bearer(ops))
    assert r.status_code == 200, r.text
    await expect(rows.first.locator("td.actor")).to_have_text("ops@example.com", timeout=LIVE)
    await expect(rows.first.locator("td.change")).to_have_text("active: true → false")
    assert errors == []
