"""What the console's tests share: the pickup store with every kind of shape (circles, a polygon, a
beacon) and a campaign, and a shopper walking into it, all through the public HTTP API; and an operator
signing in through the OpenID Connect provider."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.conftest import ADMIN_TOKEN, System
from tests.support.builders import CENTRE, SKU, Shopper, campaign, pickup_store, walk_in
from tests.support.oidc import Provider
from tests.support.operators import add_operator

SQUARE = {  # a department, about 10 m a side, just north-east of the shop's centre
    "type": "Polygon",
    "coordinates": [
        [
            [CENTRE[1], CENTRE[0]],
            [CENTRE[1] + 0.000137, CENTRE[0]],
            [CENTRE[1] + 0.000137, CENTRE[0] + 0.00009],
            [CENTRE[1], CENTRE[0] + 0.00009],
            [CENTRE[1], CENTRE[0]],
        ]
    ],
}
BEACON = {"zone_id": "bay-2", "ibeacon": {"uuid": "f7826da6-4fa2-4e98-8024-bc5b71e0893e", "major": 1, "minor": 2}}


async def console_store(system: System) -> None:
    """rivoli: an approach zone, the shop and bay 2 (circles), the fresh department (a polygon), a
    beacon in the bay, and the campaign "welcome" for shoppers entering the shop."""
    await pickup_store(system)
    r = await system.geo.put(
        "/v1/stores/rivoli/zones/fresh", json={"kind": "department", "polygon": SQUARE}, headers=system.admin
    )
    assert r.status_code == 200, r.text
    r = await system.geo.put("/v1/stores/rivoli/beacons/door", json=BEACON, headers=system.admin)
    assert r.status_code == 200, r.text
    await campaign(system, "welcome", SKU)


async def walk_into_the_shop(system: System, who: Shopper) -> None:
    """From 300 m north, through the approach zone, into the shop."""
    r = await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=who.auth)
    assert r.status_code == 200, r.text
    entered = {e["zone_id"] for e in r.json()["events"] if e["type"] == "zone.entered"}
    assert entered == {"approach", "main"}, r.text


async def sign_in(page: Page, base_url: str, token: str) -> None:
    await page.goto(f"{base_url}/console")
    await page.fill("#token", token)
    await page.click("#signin button[type=submit]")


async def signed_in_tab(browser: Browser, system: System) -> tuple[Page, list[str]]:
    """A wide tab on the console, signed in with the admin token, and the script errors it will raise."""
    page = await browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, system.settings.notify_url, ADMIN_TOKEN)
    return page, errors


async def through_the_provider(page: Page, system: System, sub: str) -> int:
    """From the console's "Sign in" to the provider's page, as `sub`, and back: the callback's status."""
    await page.goto(f"{system.settings.notify_url}/console")
    await expect(page.locator("#sso-signin")).to_be_visible()
    await expect(page.locator("#signin")).to_be_hidden()  # no admin-token form where operators sign in
    await page.click("#sso-signin")
    await page.fill("input[name=sub]", sub)
    async with page.expect_response(lambda r: "/console/callback" in r.url) as callback:
        await page.click("button[type=submit]:not([value=deny])")
    return (await callback.value).status


async def operator_at_the_provider(
    system: System, provider: Provider, email: str, role: str, sub: str, stores: list[str] | None = None
) -> None:
    """An operator of accueil (or, with no role, someone who is not) whom the provider knows as `sub`."""
    if role:
        await add_operator(system, email, role, stores)
    await provider.user(sub, email=email, email_verified=True)
