"""The SDK's ping queue against geo's per-device upload budget, in a real browser: a 429 is waited
out for its Retry-After, and every position still reaches geo, once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from playwright.async_api import Browser, Response, expect

from services.geo.settings import GeoSettings
from shared.geodesy import destination
from tests.browser.test_shop_page import consent, open_shop, position
from tests.conftest import TESTING_NOTIFY, System, eventually
from tests.support.builders import CENTRE, pickup_store


@pytest.fixture
def configs() -> dict[str, Any]:
    # One upload every 4 s, none saved up: the page's batches (every 2 s) run into the limit. Every fix
    # stored, however close (the walk sends one every 0.75 s): what is counted is that none is lost.
    return {
        "notify": TESTING_NOTIFY,
        "geo": GeoSettings(requests_per_s=0.25, request_burst=1, min_fix_interval_s=0),
    }


async def test_the_page_waits_out_a_429_for_its_retry_after_and_loses_no_position(
    system: System,
    browser: Browser,
) -> None:
    await pickup_store(system)
    start = destination(*CENTRE, 0, 2000)
    context = await browser.new_context(locale="en-GB", geolocation=position(*start), permissions=["geolocation"])
    errors: list[str] = []
    page = await open_shop(system, context, errors)
    uploads: list[tuple[float, int, str | None]] = []

    def seen(response: Response) -> None:
        if response.url.endswith("/v1/pings") and response.request.method == "POST":
            uploads.append((time.monotonic(), response.status, response.headers.get("retry-after")))

    page.on("response", seen)
    device_id, auth = await consent(page, "location")
    walked = 12
    for step in range(1, walked + 1):  # a walk, a fix every 0.75 s: more batches than geo takes
        await context.set_geolocation(position(*destination(*start, 180, 1.2 * step)))
        await asyncio.sleep(0.75)

    body = page.locator("body")
    await expect(body).to_have_attribute("data-pings-queued", "0", timeout=30_000)
    assert int(await body.get_attribute("data-rate-limited") or 0) >= 1
    limited = [i for i, (_, status, _) in enumerate(uploads) if status == 429]
    assert limited and all(uploads[i][2] for i in limited), uploads  # geo said how long
    for i in limited:  # the next try came no sooner than geo asked
        if i + 1 < len(uploads):
            assert uploads[i + 1][0] - uploads[i][0] >= float(uploads[i][2] or 0) - 0.2, uploads

    async def stored() -> list[dict[str, Any]] | None:
        pings = (await system.geo.get(f"/v1/devices/{device_id}/data", headers=auth)).json()["pings"]
        return pings if len(pings) >= walked else None

    pings = await eventually(stored)
    assert len(pings) == len({p["ts"] for p in pings}) == int(await body.get_attribute("data-pings-accepted") or 0)
    assert errors == []
    await context.close()
