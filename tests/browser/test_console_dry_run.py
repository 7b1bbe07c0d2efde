"""Dry runs from the console, in a real browser: the operator asks for one on a campaign's row or a
journey's card and reads, in one sentence, the numbers a hand count of the seeded history gives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from playwright.async_api import Browser, Page, expect

from shared.db import connect
from tests.conftest import ADMIN_TOKEN, System
from tests.support.dry_run_history import CAMPAIGN, JOURNEY, row_counts, seed, seed_journey_history


async def on_the_database(system: System, work: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    conn = await connect(system.settings.database_url)
    try:
        return await work(conn)
    finally:
        await conn.close()


async def messages_logged(conn: asyncpg.Connection) -> int:
    return (await row_counts(conn, ("notify.messages",)))["notify.messages"]


async def console(system: System, browser: Browser, errors: list[str]) -> Page:
    page = await browser.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{system.settings.notify_url}/console")
    await page.fill("#token", ADMIN_TOKEN)
    await page.click("#signin button[type=submit]")
    return page


async def test_the_dry_run_of_a_campaign_is_said_in_a_sentence_matching_the_hand_count(
    system: System, browser: Browser
) -> None:
    await on_the_database(system, seed)
    messages = await on_the_database(system, messages_logged)
    r = await system.notify.put("/v1/campaigns/welcome", json={**CAMPAIGN, "active": False}, headers=system.admin)
    assert r.status_code == 200, r.text
    errors: list[str] = []
    page = await console(system, browser, errors)
    row = page.locator('tr[data-campaign="welcome"]')
    await expect(row.locator(".status")).to_have_text("paused")
    await row.locator("button.dry-run").click()
    # Paused, it is dry-run as if resumed: what going live would do.
    await expect(page.locator("#dry-run")).to_have_text(
        "welcome: over the last 7 days this would have entered 5 devices and sent 4 messages, 7 suppressed "
        "(duplicate 1, frequency_cap 1, no_consent 2, no_subscription 1, out_of_stock 1, quiet_hours 1)."
    )
    assert await on_the_database(system, messages_logged) == messages  # nothing logged
    assert errors == []
    await page.close()


async def test_the_dry_run_of_a_journey_is_said_in_a_sentence_matching_the_hand_count(
    system: System, browser: Browser
) -> None:
    await on_the_database(system, seed_journey_history)
    r = await system.notify.put("/v1/journeys/dairy", json=JOURNEY, headers=system.admin)
    assert r.status_code == 200, r.text
    errors: list[str] = []
    page = await console(system, browser, errors)
    await page.locator('[data-journey="dairy"] button.dry-run').click()
    await expect(page.locator("#journey-dry-run")).to_have_text(
        "dairy: over the last 7 days this would have entered 6 devices and sent 2 messages, 3 suppressed "
        "(frequency_cap 1, no_consent 1, quiet_hours 1)."
    )
    # In French, the button and the sentence (the reasons stay the API's codes).
    await page.select_option("#language", "fr")
    french = page.locator('[data-journey="dairy"] button.dry-run')
    await expect(french).to_have_text("Essai à blanc")
    await french.click()
    await expect(page.locator("#journey-dry-run")).to_have_text(
        "dairy : depuis 7 jours, cela aurait fait entrer 6 appareils et envoyé 2 messages, 3 retenus "
        "(frequency_cap 1, no_consent 1, quiet_hours 1)."
    )
    assert errors == []
    await page.close()
