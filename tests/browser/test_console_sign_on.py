"""The console's single sign-on in Chromium, through a real OpenID Connect provider
(oidc-provider-mock on a loopback port): an operator signs in with the provider and the console shows
who they are and their role, and works with the session's token; anyone the operators do not name gets
403 and no session; an answer for another sign-in is refused; signing out ends the session."""

from __future__ import annotations

import os
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Route, expect

from services.notify.operators.round_trip import SESSION_COOKIE
from tests.conftest import Configs, System
from tests.support.console import console_store, operator_at_the_provider, through_the_provider
from tests.support.oidc import Provider
from tests.support.operators import add_operator


@pytest.fixture
def configs(provider: Provider) -> Configs:
    return provider.settings()


async def session_cookies(page: Page) -> list[dict[str, Any]]:
    return [c for c in await page.context.cookies() if c["name"] == SESSION_COOKIE]


async def test_a_marketer_signs_in_with_the_provider_and_the_console_says_who_they_are(
    system: System, provider: Provider, browser: Browser
) -> None:
    await add_operator(system, "ana@example.com", "marketer")
    await operator_at_the_provider(system, provider, "Ana@Example.com", "", "u-ana")
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    assert await through_the_provider(page, system, "u-ana") == 303
    await expect(page.locator("#who")).to_have_text("ana@example.com · marketer")
    assert page.url == f"{system.settings.notify_url}/console"
    [cookie] = await session_cookies(page)
    assert (cookie["httpOnly"], cookie["path"], cookie["sameSite"]) == (True, "/console", "Lax")
    assert await page.evaluate("document.cookie") == ""  # the session is out of the script's reach
    assert await page.evaluate("sessionStorage.length") == 0  # and its token is kept nowhere

    await page.click("#sso-signout")
    await expect(page.locator("#sso-signin")).to_be_visible()
    await expect(page.locator("#who")).to_be_hidden()
    assert await session_cookies(page) == []
    r = await system.notify.get("/console/session", headers={"Cookie": f"{SESSION_COOKIE}={cookie['value']}"})
    assert r.status_code == 401
    assert errors == []


async def test_an_admin_operator_works_in_the_console_with_the_session_token(
    system: System, provider: Provider, browser: Browser
) -> None:
    await console_store(system)
    await operator_at_the_provider(system, provider, "lea@example.com", "admin", "u-lea")
    page = await browser.new_page(viewport={"width": 1280, "height": 900})

    assert await through_the_provider(page, system, "u-lea") == 303
    await expect(page.locator("#who")).to_have_text("lea@example.com · admin")
    await expect(page.locator("#console")).to_be_visible()
    await expect(page.locator('[data-store="rivoli"] svg.map circle.zone')).to_have_count(3)
    await expect(page.locator('tr[data-campaign="welcome"] .status')).to_have_text("active")
    await expect(page.locator("#live")).to_have_class("live on")  # polling with the session's token
    if path := os.environ.get("ACCUEIL_SIGN_IN_SCREENSHOT"):  # how docs/sign-in.png is made
        await page.screenshot(path=path)


async def test_someone_the_operators_do_not_name_gets_403_and_no_session(
    system: System, provider: Provider, browser: Browser
) -> None:
    await operator_at_the_provider(system, provider, "ana@example.com", "marketer", "u-ana")
    await operator_at_the_provider(system, provider, "eve@example.com", "", "u-eve")
    page = await browser.new_page()
    assert await through_the_provider(page, system, "u-eve") == 403
    assert await session_cookies(page) == []
    await page.goto(f"{system.settings.notify_url}/console")
    await expect(page.locator("#sso-signin")).to_be_visible()
    await expect(page.locator("#who")).to_be_hidden()


async def test_an_answer_for_another_sign_in_is_refused(system: System, provider: Provider, browser: Browser) -> None:
    await operator_at_the_provider(system, provider, "ana@example.com", "marketer", "u-ana")
    page = await browser.new_page()
    await page.goto(f"{system.settings.notify_url}/console")
    await page.click("#sso-signin")
    await page.fill("input[name=sub]", "u-ana")

    # The provider's answer, its state swapped for another's on the way back to the browser.
    async def swap_state(route: Route) -> None:
        if route.request.method != "POST":
            return await route.continue_()
        answer = await route.fetch(max_redirects=0)
        location = answer.headers["location"].replace("state=", "state=another-")
        await route.fulfill(response=answer, headers={**answer.headers, "location": location})

    await page.route("**/oauth2/authorize?*", swap_state)
    async with page.expect_response(lambda r: "/console/callback" in r.url) as callback:
        await page.click("button[type=submit]:not([value=deny])")
    assert (await callback.value).status == 400
    assert await session_cookies(page) == []
