"""What a page must not have: accessibility violations of serious or critical impact (axe-core, run in
the page)."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

SERIOUS = ("serious", "critical")


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    results = await Axe().run(page)
    return [v for v in results.response["violations"] if v["impact"] in SERIOUS]
