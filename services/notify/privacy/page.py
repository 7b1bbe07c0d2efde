"""The privacy notice as a page a person reads (`GET /privacy`), in French or English, made from the
same document as `GET /v1/privacy`, so the two cannot say different things. Pure: a document in, HTML
out, every value escaped."""

from __future__ import annotations

from html import escape
from typing import Any, Literal

Lang = Literal["en", "fr"]

WORDS: dict[Lang, dict[str, Any]] = {
    "en": {
        "title": "Your privacy",
        "intro": (
            "What this service collects about your device, what for, and how long it is kept. Nothing is"
            " collected without a purpose, and every message needs your consent for its purpose."
        ),
        "purposes": "What you choose",
        "purposes_hint": "Each is off until you turn it on, and you can turn it off at any time.",
        "collected": "What is kept, and for how long",
        "data": "What",
        "for": "What for",
        "kept": "Kept",
        "who": "Who can see it",
        "who_text": (
            "You, through the app or page you use. The store's staff see the name you choose and your order"
            " when you come to collect it, nothing else. The people running the service see counts (how many"
            " devices are in a zone), never who or where. Nothing is sold or given to anyone else."
        ),
        "rights": "Your data in your hands",
        "export": "See or download everything kept about your device: “My data” on the shop page (or the app's own).",
        "erase": "Erase it all, everywhere, at once: “Erase everything” in the same place.",
        "withdraw": "Change your choices at any time: a choice you take back stops what it allowed at once.",
        "never": "Never",
        "unavailable": "This part cannot be shown right now; please come back in a moment.",
        "other": "Français",
        "services": {"notify": "Messages", "geo": "Location", "inventory": "Orders and stock"},
        "kept_units": {
            "days": "{n} days",
            "hours": "{n} hours",
            "until_erased": "until you erase it",
            "as_required_by_law": "as long as the law requires",
        },
    },
    "fr": {
        "title": "Votre vie privée",
        "intro": (
            "Ce que ce service recueille sur votre appareil, dans quel but, et combien de temps il le garde."
            " Rien n'est recueilli sans but, et chaque message demande votre consentement à son but."
        ),
        "purposes": "Ce que vous choisissez",
        "purposes_hint": "Chaque choix est désactivé tant que vous ne l'activez pas, et se retire à tout moment.",
        "collected": "Ce qui est gardé, et combien de temps",
        "data": "Quoi",
        "for": "Pour quoi",
        "kept": "Gardé",
        "who": "Qui peut le voir",
        "who_text": (
            "Vous, dans l'application ou la page que vous utilisez. L'équipe du magasin voit le nom que vous"
            " choisissez et votre commande quand vous venez la retirer, rien d'autre. Les personnes qui font"
            " fonctionner le service voient des nombres (combien d'appareils dans une zone), jamais qui ni où."
            " Rien n'est vendu ni donné à qui que ce soit."
        ),
        "rights": "Vos données entre vos mains",
        "export": (
            "Voir ou télécharger tout ce qui est gardé sur votre appareil : « Mes données » sur la page de la"
            " boutique (ou dans l'application)."
        ),
        "erase": "Tout effacer, partout, d'un coup : « Tout effacer » au même endroit.",
        "withdraw": "Changer vos choix à tout moment : un choix retiré arrête aussitôt ce qu'il permettait.",
        "never": "Jamais",
        "unavailable": "Cette partie ne peut pas être affichée pour l'instant ; revenez dans un moment.",
        "other": "English",
        "services": {"notify": "Messages", "geo": "Localisation", "inventory": "Commandes et stock"},
        "kept_units": {
            "days": "{n} jours",
            "hours": "{n} heures",
            "until_erased": "jusqu'à ce que vous l'effaciez",
            "as_required_by_law": "aussi longtemps que la loi l'exige",
        },
    },
}


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


def _kept(kept: dict[str, Any], words: dict[str, Any]) -> str:
    unit = kept.get("unit", "")
    text: str = words["kept_units"].get(unit, unit)
    return text.format(n=kept.get("value"))


def render(document: dict[str, Any], lang: Lang) -> str:
    """The page for `document` (GET /v1/privacy's answer in `lang`)."""
    w: dict[str, Any] = WORDS[lang]
    other: Lang = "fr" if lang == "en" else "en"
    purposes = "".join(
        f"<li><strong>{escape(name.replace('_', ' '))}</strong>: {escape(str(what))}</li>"
        for name, what in document["purposes"].items()
    )
    sections = []
    for service, items in document["collects"].items():
        title = escape(w["services"].get(service, service))
        if items is None:
            sections.append(f"<h3>{title}</h3><p>{escape(w['unavailable'])}</p>")
            continue
        rows = "".join(
            "<tr>"
            f'<td data-label="{escape(w["data"])}">{escape(str(item.get("what", item.get("data", ""))))}</td>'
            f'<td data-label="{escape(w["for"])}">{escape(str(item.get("purpose", "")).replace("_", " "))}</td>'
            f'<td data-label="{escape(w["kept"])}">{escape(_kept(item.get("kept") or {}, w))}</td>'
            "</tr>"
            for item in items
        )
        sections.append(
            f'<h3>{title}</h3><table><thead><tr><th scope="col">{escape(w["data"])}</th>'
            f'<th scope="col">{escape(w["for"])}</th><th scope="col">{escape(w["kept"])}</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{escape(w["title"])}</title>
<link rel="stylesheet" href="/privacy/privacy.css">
</head>
<body>
<main>
<p class="switch"><a href="/privacy?lang={other}" hreflang="{other}" lang="{other}">{escape(w["other"])}</a></p>
<h1>{escape(w["title"])}</h1>
<p>{escape(w["intro"])}</p>
<h2>{escape(w["purposes"])}</h2>
<p>{escape(w["purposes_hint"])}</p>
<ul>{purposes}</ul>
<h2>{escape(w["collected"])}</h2>
{"".join(sections)}
<h2>{escape(w["who"])}</h2>
<p>{escape(w["who_text"])}</p>
<h2>{escape(w["rights"])}</h2>
<ul><li>{escape(w["export"])}</li><li>{escape(w["erase"])}</li><li>{escape(w["withdraw"])}</li></ul>
<h2>{escape(w["never"])}</h2>
<p>{escape(str(document["never"]))}</p>
</main>
</body>
</html>
"""
