"""The privacy page's pure parts: which language a browser asks for, and a page that escapes what it shows."""

from __future__ import annotations

import pytest

from services.notify.privacy.page import language_of, render


@pytest.mark.parametrize(
    ("header", "asked", "lang"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.8", None, "fr"),
        ("en-GB,en;q=0.9,fr;q=0.8", None, "en"),
        ("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4", None, "fr"),  # the first of ours it prefers
        ("en;q=0.2,fr;q=0.7", None, "fr"),  # by weight, not by place
        ("de-DE", None, "en"),
        (None, None, "en"),
        ("fr;q=abc,en", None, "en"),  # a broken weight is ignored, not a crash
        ("en-GB", "fr", "fr"),  # ?lang= wins
    ],
)
def test_the_language_is_the_browsers_first_of_french_or_english(
    header: str | None, asked: str | None, lang: str
) -> None:
    assert language_of(header, asked) == lang


def test_the_page_escapes_what_it_shows_and_says_when_a_part_is_missing() -> None:
    document = {
        "purposes": {"offers": "<script>alert(1)</script>"},
        "collects": {
            "notify": [{"what": "a & b", "purpose": "offers", "kept": {"unit": "days", "value": 90}}],
            "geo": None,
        },
        "never": "no <b>raw</b> address",
    }
    html = render(document, "en")
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "a &amp; b" in html and "90 days" in html
    assert "cannot be shown right now" in html
    assert 'lang="en"' in html and 'href="/privacy?lang=fr"' in html
