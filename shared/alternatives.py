"""Ranking in-stock alternatives to a product: pure, no I/O. inventory answers with it, and notify ranks
its own stock replica with it, so both give the same alternative."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher


@dataclass(frozen=True)
class Candidate:
    sku: str
    name: str
    category: str
    available: int


def _words(name: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", name.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return {w for w in re.split(r"\W+", folded) if w}


def similarity(a: str, b: str) -> float:
    """0..1: shared words weigh most, character overlap breaks ties ("Oat milk 1L" ~ "Oat drink 1L")."""
    wa, wb = _words(a), _words(b)
    words = len(wa & wb) / len(wa | wb) if wa | wb else 0.0
    chars = SequenceMatcher(None, a.casefold(), b.casefold()).ratio()
    return 0.7 * words + 0.3 * chars


def rank(wanted_name: str, wanted_category: str, candidates: list[Candidate], limit: int = 10) -> list[Candidate]:
    """Products of the same category, closest name first, then most available.

    Never anything unavailable, and never another category: a shopper who wanted oat milk is not
    offered a hammer because the hammer is in stock.
    """
    fitting = [c for c in candidates if c.available > 0 and c.category == wanted_category]
    fitting.sort(key=lambda c: (-similarity(wanted_name, c.name), -c.available, c.sku))
    return fitting[:limit]
