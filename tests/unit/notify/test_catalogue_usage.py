"""Every text the pages' scripts and HTML ask for is in the catalogue: a key misspelt in a script, or
a text added to a page and not to the catalogue, would show the raw key to a person."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.notify import catalogue
from shared.events import PURPOSES

NOTIFY = Path(__file__).resolve().parents[3] / "services" / "notify"

# Each surface's files, and the catalogue part its short keys are in.
SURFACES = {
    "console": sorted((NOTIFY / "console" / "static").glob("*.js")) + [NOTIFY / "console" / "static" / "console.html"],
    "shop": [NOTIFY / "shop" / "static" / "shop.js", NOTIFY / "shop" / "static" / "shop.html"],
    "staff": [NOTIFY / "staff_alerts" / "static" / "staff.js", NOTIFY / "staff_alerts" / "static" / "staff.html"],
}
# A key said in full: t("key"), t("key", {...}); data-i18n="key", data-t="key"; dataset.i18n = "key".
LITERAL = re.compile(r"""\bt\("([^"]+)"|data-(?:i18n|t)="([^"]+)"|dataset\.i18n = "([^"]+)\"""")
# A key chosen at run time: t(`kind.${kind}`): its family ("kind.") is what can be checked.
FAMILY = re.compile(r"\bt\(`([\w.]+)\$\{")


def used(part: str) -> tuple[set[str], set[str]]:
    """The full keys a surface's files name, and the families of those it chooses at run time."""
    keys: set[str] = set()
    families: set[str] = set()
    for path in SURFACES[part]:
        text = path.read_text(encoding="utf-8")
        keys |= {f"{part}.{next(g for g in m.groups() if g)}" for m in LITERAL.finditer(text)}
        families |= {f"{part}.{m.group(1)}" for m in FAMILY.finditer(text)}
    return keys, families


@pytest.mark.parametrize("part", sorted(SURFACES))
@pytest.mark.parametrize("locale", catalogue.LOCALES)
def test_every_key_a_page_uses_is_in_the_catalogue(part: str, locale: catalogue.Locale) -> None:
    keys, families = used(part)
    assert len(keys) > 10, keys  # the scan finds what the pages say: a broken pattern would find nothing
    texts = catalogue.texts(locale)
    assert sorted(keys - texts.keys()) == []
    assert sorted(f for f in families if not any(k.startswith(f) for k in texts)) == []


@pytest.mark.parametrize("locale", catalogue.LOCALES)
def test_the_shop_page_names_every_purpose_and_says_what_each_sdk_refusal_means(locale: catalogue.Locale) -> None:
    texts = catalogue.texts(locale)
    assert [p for p in PURPOSES if f"shop.purposes.{p}" not in texts] == []
    sdk = (NOTIFY / "shop" / "static" / "accueil.js").read_text(encoding="utf-8")
    codes = set(re.findall(r'new AccueilError\("(\w+)"', sdk)) - {"unknown_language"}  # a page's own mistake
    assert len(codes) > 4, codes
    assert sorted(c for c in codes if f"sdk.{c}" not in texts) == []


def test_no_page_keeps_texts_of_its_own() -> None:
    """The old tables of texts are gone: a text is written once, in the catalogue."""
    for files in SURFACES.values():
        for path in files:
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"\b(?:WORDS|TEXTS)\s*=\s*\{\s*en\s*:", text), path.name
