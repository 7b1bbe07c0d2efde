"""The privacy notice as a page a person reads (`GET /privacy`), in French or English, made from the
same document as `GET /v1/privacy`, so the two cannot say different things. Pure: a document in, HTML
out, every value escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from services.notify import catalogue
from services.notify.catalogue import Locale

Lang = Locale


def _word(lang: Lang, key: str) -> str:
    """The page's text `key` (privacy.json of the catalogue), escaped for HTML."""
    return escape(catalogue.say(lang, f"privacy.{key}"))


def language_of(accept_language: str | None, asked: str | None = None) -> Lang:
    """`?lang=` when given, else the first of French or English the browser prefers (by q), else English."""
    if asked in ("en", "fr"):
        return asked  # type: ignore[return-value]
    best: tuple[float, Lang] | None = None
    for order, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower()[:2]
        if lang not in ("en", "fr"):
            continue
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        key = (quality - order * 1e-6, lang)  # equal weights: the earlier wins
        if best is None or key[0] > best[0]:
            best = (key[0], lang)  # type: ignore[assignment]
    return best[1] if best else "en"


def _kept(kept: dict[str, Any], lang: Lang) -> str:
    unit = kept.get("unit", "")
    key = f"privacy.kept.{unit}"
    return catalogue.say(lang, key, n=kept.get("value")) if key in catalogue.texts(lang) else str(unit)


def render(document: dict[str, Any], lang: Lang) -> str:
    """The page for `document` (GET /v1/privacy's answer in `lang`)."""
    other: Lang = "fr" if lang == "en" else "en"
    purposes = "".join(
        f"<li><strong>{escape(name.replace('_', ' '))}</strong>: {escape(str(what))}</li>"
        for name, what in document["purposes"].items()
    )
    sections = []
    for service, items in document["collects"].items():
        title = escape(catalogue.texts(lang).get(f"privacy.service.{service}", service))
        if items is None:
            sections.append(f"<h3>{title}</h3><p>{_word(lang, 'unavailable')}</p>")
            continue
        rows = "".join(
            "<tr>"
            f'<td data-label="{_word(lang, "data")}">{escape(str(item.get("what", item.get("data", ""))))}</td>'
            f'<td data-label="{_word(lang, "for")}">{escape(str(item.get("purpose", "")).replace("_", " "))}</td>'
            f'<td data-label="{_word(lang, "kept")}">{escape(_kept(item.get("kept") or {}, lang))}</td>'
            "</tr>"
            for item in items
        )
        sections.append(
            f'<h3>{title}</h3><table><thead><tr><th scope="col">{_word(lang, "data")}</th>'
            f'<th scope="col">{_word(lang, "for")}</th><th scope="col">{_word(lang, "kept")}</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{_word(lang, "title")}</title>
<link rel="stylesheet" href="/privacy/privacy.css">
</head>
<body>
<main>
<p class="switch"><a href="/privacy?lang={other}" hreflang="{other}" lang="{other}">{_word(lang, "other")}</a></p>
<h1>{_word(lang, "title")}</h1>
<p>{_word(lang, "intro")}</p>
<h2>{_word(lang, "purposes")}</h2>
<p>{_word(lang, "purposes_hint")}</p>
<ul>{purposes}</ul>
<h2>{_word(lang, "collected")}</h2>
{"".join(sections)}
<h2>{_word(lang, "who")}</h2>
<p>{_word(lang, "who_text")}</p>
<h2>{_word(lang, "rights")}</h2>
<ul><li>{_word(lang, "export")}</li><li>{_word(lang, "erase")}</li><li>{_word(lang, "withdraw")}</li></ul>
<h2>{_word(lang, "never")}</h2>
<p>{escape(str(document["never"]))}</p>
</main>
</body>
</html>
"""
