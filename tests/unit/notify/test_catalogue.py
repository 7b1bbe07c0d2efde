"""The one catalogue of texts: both locales say the same things, with the same placeholders."""

from __future__ import annotations

import re

import pytest

from services.notify import catalogue


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_both_locales_have_the_same_keys_and_placeholders() -> None:
    en, fr = catalogue.texts("en"), catalogue.texts("fr")
    assert en.keys() == fr.keys()
    assert {k: placeholders(t) for k, t in en.items()} == {k: placeholders(t) for k, t in fr.items()}


def test_a_text_is_said_with_its_values_and_an_unknown_key_is_an_error() -> None:
    assert catalogue.say("fr", "common.language") == "Français"
    with pytest.raises(KeyError):
        catalogue.say("en", "common.nothing")


@pytest.mark.parametrize(
    ("tag", "locale"), [("fr-CA", "fr"), ("fr_FR", "fr"), ("EN", "en"), ("de", "en"), (None, "en")]
)
def test_a_language_tag_finds_its_locale(tag: str | None, locale: str) -> None:
    assert catalogue.locale_of(tag) == locale
