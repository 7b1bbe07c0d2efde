"""The console's single sign-on against a real OpenID Connect provider (oidc-provider-mock): the
verified email of an operator opens a session whose short-lived token the three services accept with
the operator's role; anyone else, an unverified email, a forged or altered answer is refused with no
session; signing out and removing the operator end what the session handed out."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.notify.operators.round_trip import ROUND_TRIP_COOKIE, SESSION_COOKIE, open_round_trip, seal_round_trip
from tests.conftest import TOKEN_KEY, Configs, System, eventually
from tests.support.builders import pickup_store
from tests.support.oidc import Provider
from tests.support.operators import accepted_everywhere, add_operator, refused_everywhere_within


@pytest.fixture
def configs(provider: Provider) -> Configs:
    return provider.settings()


class Browser:
    """A browser's part of the sign-in, by hand: its cookies, the redirects it follows."""

    def __init__(self, system: System) -> None:
        self.notify = httpx.AsyncClient(base_url=system.settings.notify_url, timeout=10)
        self.origin = system.settings.notify_url

    async def to_provider(self) -> str:
        """`/console/login`: where the provider's sign-in page is."""
        r = await self.notify.get("/console/login")
        assert r.status_code == 303, r.text
        assert ROUND_TRIP_COOKIE in r.cookies
        return r.headers["location"]

    async def provider_answer(self, authorize_url: str, sub: str) -> dict[str, str]:
        """The user `sub` signs in at the provider: the query it sends the browser back with."""
        async with httpx.AsyncClient() as client:
            r = await client.post(authorize_url, data={"sub": sub})
        assert r.status_code == 302, r.text
        back = urlsplit(r.headers["location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == f"{self.origin}/console/callback"
        return {k: v[0] for k, v in parse_qs(back.query).items()}

    def replace_round_trip(self, value: str) -> None:
        """What a tampering browser sends back in place of the sealed round trip."""
        for cookie in self.notify.cookies.jar:
            if cookie.name == ROUND_TRIP_COOKIE:
                cookie.value = value

    async def sign_in(self, sub: str) -> httpx.Response:
        answer = await self.provider_answer(await self.to_provider(), sub)
        return await self.notify.get("/console/callback", params=answer)

    async def session(self) -> httpx.Response:
        return await self.notify.get("/console/session", headers={"Sec-Fetch-Site": "same-origin"})

    async def aclose(self) -> None:
        await self.notify.aclose()


@pytest.fixture
async def browser(system: System) -> Any:
    b = Browser(system)
    yield b
    await b.aclose()


async def store_manager_paul(system: System, provider: Provider) -> None:
    """paul@example.com runs rivoli; the provider knows him as u-paul, his email verified."""
    await pickup_store(system)
    await add_operator(system, "paul@example.com", "store_manager", ["rivoli"])
    await provider.user("u-paul", email="Paul@Example.com", email_verified=True)


async def test_an_operator_signs_in_and_the_services_take_the_session_token_until_they_are_removed(
    system: System, provider: Provider, browser: Browser
) -> None:
    await store_manager_paul(system, provider)
    r = await browser.sign_in("u-paul")
    assert (r.status_code, r.headers["location"]) == (303, "/console"), r.text
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert {"HttpOnly", "Path=/console", "SameSite=lax"} <= {part.strip() for part in cookie.split(";")}
    r = await browser.session()
    assert r.status_code == 200, r.text
    session = r.json()
    assert (session["email"], session["role"], session["stores"]) == ("paul@example.com", "store_manager", ["rivoli"])
    paul = System.bearer(session["token"])
    await accepted_everywhere(system, paul)

    started = time.monotonic()
    assert (await system.notify.delete("/v1/operators/paul@example.com", headers=system.admin)).status_code == 204
    await refused_everywhere_within(system, paul, started)
    assert (await browser.session()).status_code == 401  # the session went with them


async def test_signing_out_ends_the_session_and_its_tokens_from_the_console_page_only(
    system: System, provider: Provider, browser: Browser
) -> None:
    await store_manager_paul(system, provider)
    assert (await browser.sign_in("u-paul")).status_code == 303
    token = System.bearer((await browser.session()).json()["token"])
    assert (await system.geo.get("/v1/stores/rivoli/trips", headers=token)).status_code == 200

    # Another site's page posting to the console: refused, the session stays.
    for forged in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        r = await browser.notify.post("/console/logout", headers=forged)
        assert r.status_code == 403, r.text
        assert (await browser.session()).status_code == 200
    r = await browser.notify.get("/console/session", headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403

    r = await browser.notify.post("/console/logout", headers={"Origin": browser.origin})
    assert r.status_code == 204, r.text
    assert (await browser.session()).status_code == 401

    async def refused() -> bool:
        return (await system.geo.get("/v1/stores/rivoli/trips", headers=token)).status_code == 401

    await eventually(refused, timeout=5)
    ops = (await system.notify.get("/v1/operators", headers=system.admin)).json()["operators"]
    assert [o["email"] for o in ops] == ["paul@example.com"]  # signing out removes no one


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "stranger@example.com", "email_verified": True},  # names no operator
        {"email": "ana@example.com", "email_verified": False},
        {"email": "ana@example.com"},  # verified: not said
    ],
)
async def test_no_session_without_a_verified_email_naming_an_operator(
    system: System, provider: Provider, browser: Browser, claims: dict[str, Any]
) -> None:
    await add_operator(system, "ana@example.com", "marketer")
    await provider.user("u-1", **claims)
    r = await browser.sign_in("u-1")
    assert r.status_code == 403, r.text
    assert SESSION_COOKIE not in r.cookies
    assert (await browser.session()).status_code == 401


async def test_a_forged_or_altered_answer_from_the_provider_opens_no_session(
    system: System, provider: Provider, browser: Browser
) -> None:
    await add_operator(system, "ana@example.com", "marketer")
    await provider.user("u-ana", email="ana@example.com", email_verified=True)

    # Another state than the one this browser's sign-in began with (a login forgery).
    answer = await browser.provider_answer(await browser.to_provider(), "u-ana")
    r = await browser.notify.get("/console/callback", params={**answer, "state": "someone-elses"})
    assert (r.status_code, r.json()["field"]) == (400, "state")

    # The round-trip cookie altered by one character.
    answer = await browser.provider_answer(await browser.to_provider(), "u-ana")
    sealed = browser.notify.cookies[ROUND_TRIP_COOKIE]
    browser.replace_round_trip(sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1])
    r = await browser.notify.get("/console/callback", params=answer)
    assert (r.status_code, r.json()["field"]) == (400, "state")

    # The right state and PKCE verifier, another nonce (what a replayed ID token would carry).
    answer = await browser.provider_answer(await browser.to_provider(), "u-ana")
    trip = open_round_trip(TOKEN_KEY, browser.notify.cookies[ROUND_TRIP_COOKIE], answer["state"])
    forged = seal_round_trip(TOKEN_KEY, type(trip)(trip.state, trip.verifier, "another-nonce", trip.expires))
    browser.replace_round_trip(forged)
    r = await browser.notify.get("/console/callback", params=answer)
    assert r.status_code == 403 and "nonce" in r.json()["detail"], r.text

    # Without the cookie at all (the answer replayed in another browser).
    answer = await browser.provider_answer(await browser.to_provider(), "u-ana")
    browser.notify.cookies.clear()
    r = await browser.notify.get("/console/callback", params=answer)
    assert (r.status_code, r.json()["field"]) == (400, "state")
    assert (await browser.session()).status_code == 401

    # And the same provider, the same user, a whole round trip: signed in.
    assert (await browser.sign_in("u-ana")).status_code == 303
    assert (await browser.session()).json()["role"] == "marketer"
