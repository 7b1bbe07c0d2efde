"""Every text a person reads from notify, in French and English, in one place: the console, the pages
(/shop, /privacy, /staff), the shop page's SDK, and the words notify writes into messages (why a
message came). One JSON file per locale and part, `<locale>/<part>.json`, flat keys with `{name}`
placeholders; a key is known as `<part>.<key>` (`why.offer`). The browser's scripts fetch the same
files the server reads, so a text is written once. Pure apart from reading the package's own files."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal, get_args

Locale = Literal["en", "fr"]
LOCALES: tuple[Locale, ...] = get_args(Locale)
DEFAULT: Locale = "en"


def locale_of(wanted: str | None) -> Locale:
    """The catalogue's locale for a language tag (`fr-CA` → `fr`); English when there is none."""
    language = (wanted or "").split("-")[0].split("_")[0].lower()
    return language if language in LOCALES else DEFAULT


@cache
def texts(locale: Locale) -> dict[str, str]:
    """Every text of a locale, by its full key."""
    found: dict[str, str] = {}
    for part in sorted(resources.files(__package__).joinpath(locale).iterdir(), key=lambda p: p.name):
        if not part.name.endswith(".json"):
            continue
        prefix = part.name.removesuffix(".json")
        for key, text in json.loads(part.read_text(encoding="utf-8")).items():
            found[f"{prefix}.{key}"] = text
    return found


def say(locale: Locale, key: str, **values: object) -> str:
    """One text, its `{name}` placeholders filled. An unknown key is a programming error: KeyError."""
    text = texts(locale)[key]
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text
