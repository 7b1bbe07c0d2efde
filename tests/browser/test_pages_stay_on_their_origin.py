"""Every page the services serve, opened in a real browser (Debian's Chromium, headless, driven by
Playwright) with every request watched: nothing is fetched from another origin (but the calls the
shopper page makes to geo's and inventory's APIs, which is what it is for), and each HTML page forbids
scripts from anywhere else. On notify's origin the staff and shopper pages keep their tokens: a script
from a CDN there could read them."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from playwright.async_api import Browser, Error, Request, Route

from shared.settings import SERVICES
from tests.conftest import System
from tests.support.pages import OPENAPI_DOCUMENT, SCHEMA_UIS, browsable_paths, script_sources

API_CALLS = {"fetch", "xhr", "eventsource"}


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def test_no_page_of_any_service_fetches_from_another_origin_or_allows_scripts_from_one(
    system: System, browser: Browser
) -> None:
    services = {origin(system.settings.url_of(name)) for name in SERVICES}
    elsewhere: list[str] = []
    unguarded: list[str] = []
    opened = 0
    for name in SERVICES:
        base = system.settings.url_of(name).rstrip("/")
        paths = browsable_paths(system.running.servers[name].config.app)
        assert {OPENAPI_DOCUMENT, *SCHEMA_UIS} <= set(paths)
        context = await browser.new_context(service_workers="block")

        async def watch(route: Route, request: Request, base: str = base) -> None:
            # Refused, not fetched: the test needs no network, and a CDN's script never runs here.
            where = origin(request.url)
            if where != base and not (where in services and request.resource_type in API_CALLS):
                elsewhere.append(f"{request.frame.url} -> {request.url}")
                await route.abort()
            else:
                await route.continue_()

        await context.route("**/*", watch)
        page = await context.new_page()
        for path in paths:
            try:
                answer = await page.goto(f"{base}{path}", wait_until="networkidle")
            except Error as error:
                if "Download is starting" in error.message:
                    continue  # a file the browser saves (a YAML document): no page, nothing runs
                async with httpx.AsyncClient() as http:
                    if "net::ERR_ABORTED" in error.message and (await http.get(f"{base}{path}")).status_code == 204:
                        continue  # no content (the console's session without single sign-on): nothing runs
                raise
            assert answer is not None, path
            opened += 1
            if answer.headers.get("content-type", "").startswith("text/html"):
                policy = answer.headers.get("content-security-policy")
                if policy is None or set(script_sources(policy)) - {"'self'", "'none'"}:
                    unguarded.append(f"{base}{path}: {policy}")
        await context.close()
    assert opened > 20
    assert elsewhere == []
    assert unguarded == []
