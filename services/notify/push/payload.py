"""A notification's JSON, shortened to fit a push service's size limit. Pure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

ELLIPSIS = "…"

Texts = Callable[[str, str, str], Any]
"""Renders the notification from its title, body and why (the why: "" when there is none)."""


def compact(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def fitted(render: Texts, title: str, body: str, why: str, limit: int) -> bytes:
    """The JSON of `render(title, body, why)` in at most `limit` bytes, its texts cut short with "…":
    the why first, then the body, then the title, each only once the one before is gone.

    The why goes first because it is the one text the shopper still has in full elsewhere: the message
    log (and the shop page) keep it whole, while the notification is the only place the body and the
    title are read at the moment they matter.

    Each round cuts the text's UTF-8 by the bytes too many (never inside a character); JSON escapes
    only add bytes, so the next round cuts what they added, and a few rounds suffice whatever the
    text."""
    shown = [title, body, why]
    data = compact(render(*shown))
    for index in (2, 1, 0):
        text = shown[index]
        while len(data) > limit and text:
            raw = text.encode()
            keep = len(raw) - (len(data) - limit) - len(ELLIPSIS.encode())
            text = raw[: max(0, keep)].decode(errors="ignore")
            shown[index] = text + ELLIPSIS if text else ""
            data = compact(render(*shown))
        if len(data) <= limit:
            break
        shown[index] = ""
    return data
