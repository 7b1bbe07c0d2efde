"""The rules of pickup orders: their lines, their lifecycle, when they lapse. Pure, no I/O.

What is short of an order's lines is stock's to say (stock.availability)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.inventory.stock.availability import Line
from shared.errors import Invalid

MAX_DISPLAY_NAME = 40
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# action -> (statuses it may start from, status it leads to)
MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "ready": (("reserved",), "ready"),
    "collected": (("ready",), "collected"),
    "cancel": (("reserved", "ready"), "canceled"),
}
STATUSES = ("reserved", "ready", "collected", "canceled")


def lines_of(given: Sequence[tuple[str, int]]) -> list[Line]:
    """One line per SKU, sorted by SKU: the order in which their stock rows are locked, so two orders
    sharing SKUs never wait on each other in a cycle.

    A SKU given twice is refused rather than merged: it is a client bug more often than an intent,
    and merging would hide it (and could push the total past the per-line limit unseen).
    """
    first: dict[str, int] = {}
    for i, (sku, _) in enumerate(given):
        if sku in first:
            raise Invalid(
                f"sku {sku!r} is on lines {first[sku]} and {i}: give one line per sku with the total qty",
                field=f"lines[{i}].sku",
            )
        first[sku] = i
    return sorted(Line(sku, qty) for sku, qty in given)


def clean_display_name(raw: str | None) -> str | None:
    """The name staff will call out: trimmed, inner runs of spaces collapsed, at most 40 characters.
    Blank means no name. Control characters and direction overrides are refused: they would garble
    the staff page or make one name look like another."""
    if raw is None:
        return None
    if any((unicodedata.category(c) == "Cc" and not c.isspace()) or c in _BIDI_CONTROLS for c in raw):
        raise Invalid("display_name must not contain control characters", field="display_name")
    name = " ".join(raw.split())
    if not name:
        return None
    if len(name) > MAX_DISPLAY_NAME:
        raise Invalid(f"display_name is at most {MAX_DISPLAY_NAME} characters", field="display_name")
    return name


@dataclass(frozen=True)
class Holds:
    """How long an order may hold stock in each waiting status."""

    prepare: timedelta
    pickup: timedelta

    def cutoffs(self, now: datetime) -> tuple[datetime, datetime]:
        """Orders reserved before the first instant, or ready before the second, have lapsed."""
        return now - self.prepare, now - self.pickup

    def expires_at(self, status: str, created_at: datetime, ready_at: datetime | None) -> datetime | None:
        if status == "reserved":
            return created_at + self.prepare
        if status == "ready" and ready_at is not None:
            return ready_at + self.pickup
        return None
