"""The console's store desk in Chromium, operators signed in through a real OpenID Connect provider: a
store manager runs their own store (its zones, stock, pickups, alerts and staff: hire, remove) and
never sees another; an admin has the desk too; a marketer has none in the page, and the API refuses
their token on every staff route; in French, the desk speaks French."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import Configs, System, eventually
from tests.support.accessibility import serious_violations
from tests.support.builders import SKU, STORE, customer, pickup_store, place_order, pull_in, staff_member
from tests.support.console import operator_at_the_provider, through_the_provider
from tests.support.oidc import Provider

OPERA_ZONE = {"kind": "department", "circle": {"lat": STORE["lat"], "lng": STORE["lng"], "radius_m": 10}}


@pytest.fixture
def configs(provider: Provider) -> Configs:
    return provider.settings()


async def two_stores(system: System) -> dict[str, str]:
    """rivoli (zones, stock, a staff member, an order whose shopper pulled into the bay: a trip and its
    alerts) and opera with a staff member of its own: the ids of rivoli's order and of each staff member."""
    await pickup_store(system)
    await pickup_store(system, "opera")
    who = await customer(system, None)
    order = await place_order(system, who)
    await pull_in(system, who, order)

    async def alerted() -> bool:
        r = await system.notify.get("/v1/stores/rivoli/alerts", headers=system.admin)
        return r.status_code == 200 and len(r.json()["alerts"]) > 0

    await eventually(alerted)
    alex = await staff_member(system, name="Alex")
    eli = await staff_member(system, store_id="opera", name="Eli")
    return {"order": order, "alex": alex.staff_id, "eli": eli.staff_id}


async def signed_in(
    browser: Browser, system: System, provider: Provider, who: tuple[str, str, list[str] | None], **context: Any
) -> Page:
    email, role, stores = who
    sub = f"u-{email.split('@')[0]}"
    await operator_at_the_provider(system, provider, email, role, sub, stores)
    tab = await (await browser.new_context(viewport={"width": 1280, "height": 1000}, **context)).new_page()
    assert await through_the_provider(tab, system, sub) == 303
    await expect(tab.locator("#console")).to_be_visible()
    return tab


async def session_token(page: Page) -> dict[str, str]:
    """The bearer token the console's script holds, from the session as the script gets it."""
    answer = await page.evaluate("fetch('/console/session').then((r) => r.json())")
    return System.bearer(answer["token"])


async def test_a_store_manager_runs_their_store_and_never_sees_another(
    system: System, provider: Provider, browser: Browser
) -> None:
    ids = await two_stores(system)
    page = await signed_in(browser, system, provider, ("sam@example.com", "store_manager", ["rivoli"]))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await expect(page.locator("#who")).to_have_text("sam@example.com · store manager")
    desk = page.locator('#store-desk [data-desk-store="rivoli"]')
    await expect(desk.locator("h3")).to_contain_text("Rivoli")
    # The overview spans every store and campaign: not a store manager's.
    await expect(page.locator("#campaigns").locator("xpath=ancestor::section")).to_be_hidden()
    await expect(page.locator("#sso-error")).to_have_text("")

    # Zones drawn (read only: no editing anywhere), stock, the order, the trip and its alerts.
    await expect(desk.locator(".panel.zones path.zone")).to_have_count(3)
    await expect(desk.locator(".panel.zones [data-zone='bay-2']").first).to_be_visible()
    await expect(page.locator("button.edit-zones, #zone-editor button.tool")).to_have_count(0)
    await expect(desk.locator(f'.panel.stock tr[data-sku="{SKU}"] td').nth(1)).to_have_text("4")  # 5, one reserved
    await expect(desk.locator(f'.panel.orders tr[data-order="{ids["order"]}"]')).to_contain_text("Camille")
    await expect(desk.locator(".panel.trips tr")).to_have_count(2)  # the header, the trip
    await expect(desk.locator(".panel.alerts tr[data-alert]").first).to_contain_text("Camille")

    # The staff: Alex listed; Noa hired, her token shown once and good on the staff API; then removed.
    staff = desk.locator(".panel.staff")
    await expect(staff.locator(f'tr[data-staff="{ids["alex"]}"] td.name')).to_have_text("Alex")
    await staff.locator("input[name=name]").fill("Noa")
    await staff.locator("button.hire").click()
    token = staff.locator(".issued input.token")
    await expect(token).to_be_visible()
    noa_auth = System.bearer(await token.input_value())
    noa = staff.locator("tr[data-staff]", has_text="Noa")
    await expect(noa).to_have_count(1)
    noa_id = await noa.get_attribute("data-staff")
    assert (await system.notify.get(f"/v1/staff/{noa_id}", headers=noa_auth)).status_code == 200
    await staff.locator(".issued button.done").click()
    await expect(token).to_have_count(0)
    await noa.locator("button.remove").click()
    await noa.locator("button.remove.confirm").click()
    await expect(noa).to_have_count(0)
    await expect(staff.locator("tr[data-staff]")).to_have_count(1)

    async def noa_refused() -> bool:
        return (await system.notify.get(f"/v1/staff/{noa_id}", headers=noa_auth)).status_code == 401

    await eventually(noa_refused, timeout=5)

    # Opera is nowhere in the page, and the API refuses the console's token there.
    await expect(page.locator("#desk-store option")).to_have_count(1)
    assert "opera" not in (await page.locator("#store-desk").inner_text()).lower()
    assert "Eli" not in await page.locator("body").inner_text()
    auth = await session_token(page)
    for client, method, path, body in (
        (system.notify, "GET", "/v1/stores/opera/staff", None),
        (system.notify, "POST", "/v1/stores/opera/staff", {"name": "Eve"}),
        (system.notify, "DELETE", f"/v1/staff/{ids['eli']}", None),
        (system.notify, "GET", "/v1/stores/opera/alerts", None),
        (system.inventory, "GET", "/v1/stores/opera/stock", None),
        (system.inventory, "PUT", f"/v1/stores/opera/stock/{SKU}", {"on_hand": 1}),
        (system.geo, "GET", "/v1/stores/opera/zones", None),
        (system.geo, "PUT", "/v1/stores/opera/zones/z9", OPERA_ZONE),
        (system.geo, "PUT", "/v1/stores/rivoli/zones/z9", OPERA_ZONE),  # their own store's zones: read only
    ):
        r = await client.request(method, path, json=body, headers=auth)
        assert r.status_code == 403, (method, path, r.text)
    assert errors == []


async def test_an_admin_manages_staff_in_the_console_and_a_marketer_has_no_staff_management(
    system: System, provider: Provider, browser: Browser
) -> None:
    ids = await two_stores(system)
    admin = await signed_in(browser, system, provider, ("lea@example.com", "admin", None))
    # An admin picks any store: both are listed, and each store's staff shows.
    await expect(admin.locator("#desk-store option")).to_have_count(2)
    await expect(admin.locator(f'#store-desk tr[data-staff="{ids["eli"]}"]')).to_be_visible()  # opera: first by id
    await admin.select_option("#desk-store", "rivoli")
    await expect(admin.locator(f'#store-desk tr[data-staff="{ids["alex"]}"]')).to_be_visible()
    await expect(admin.locator("#store-desk form.hire")).to_be_visible()

    page = await signed_in(browser, system, provider, ("mia@example.com", "marketer", None))
    await expect(page.locator("#who")).to_have_text("mia@example.com · marketer")
    await expect(page.locator("#live")).to_have_class("live on")
    await page.wait_for_function("Number(document.body.dataset.polls) >= 2")
    # Not hidden: absent.
    for selector in ("#store-desk", "form.hire", "[data-staff]", "button.remove", "#desk-store"):
        await expect(page.locator(selector)).to_have_count(0)
    auth = await session_token(page)
    alex = ids["alex"]
    subscription = {"endpoint": "https://push.example.com/send/abc", "keys": {"p256dh": "x" * 87, "auth": "y" * 22}}
    for method, path, body in (
        ("POST", "/v1/stores/rivoli/staff", {"name": "Eve"}),
        ("GET", "/v1/stores/rivoli/staff", None),
        ("GET", f"/v1/staff/{alex}", None),
        ("POST", f"/v1/staff/{alex}/token", None),
        ("DELETE", f"/v1/staff/{alex}", None),
        ("PUT", f"/v1/staff/{alex}/push-subscription", subscription),
        ("DELETE", f"/v1/staff/{alex}/push-subscription", None),
        ("PUT", f"/v1/staff/{alex}/push-token", {"provider": "fcm", "token": "t" * 40}),
        ("DELETE", f"/v1/staff/{alex}/push-token", None),
        ("GET", "/v1/stores/rivoli/alerts", None),
        ("POST", "/v1/stores/rivoli/alerts/stream-ticket", None),
    ):
        r = await system.notify.request(method, path, json=body, headers=auth)
        assert r.status_code == 403, (method, path, r.text)


async def test_the_store_desk_in_french(system: System, provider: Provider, browser: Browser) -> None:
    await two_stores(system)
    page = await signed_in(browser, system, provider, ("sam@example.com", "store_manager", ["rivoli"]), locale="fr-FR")
    desk = page.locator("#store-desk")
    await expect(desk.locator("h2")).to_contain_text("Le magasin")
    await expect(desk.locator(".panel.staff h4")).to_have_text("Équipe")
    await expect(desk.locator("button.hire")).to_have_text("Ajouter à l'équipe")
    await expect(desk.locator(".panel.orders td").nth(2)).to_have_text("à préparer")
    await expect(desk.locator(".panel.stock th").nth(1)).to_have_text("Disponible")
    await desk.locator("input[name=name]").fill("Noa")
    await desk.locator("button.hire").click()
    await expect(desk.locator(".issued")).to_contain_text("Le jeton de Noa, affiché cette seule fois")
    violations = await serious_violations(page)
    assert violations == [], [v["id"] for v in violations]
    await page.select_option("#language", "en")
    await expect(desk.locator("h2")).to_contain_text("Store desk")
    await expect(desk.locator(".panel.staff h4")).to_have_text("Staff")
    await expect(desk.locator(".panel.orders td").nth(2)).to_have_text("to prepare")
