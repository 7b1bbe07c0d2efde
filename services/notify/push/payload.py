"""A notification's JSON, shortened to fit a push service's size limit. Pure."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

ELLIPSIS = "…"


def compact(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def fitted(render: Callable[[str, str], Any], title: str, body: str, limit: int) -> bytes:
    """The JSON of `render(title, body)` in at most `limit` bytes: the body is cut short with "…"
    first, then the title if the body alone cannot make it fit. Each round cuts the text's UTF-8 by
    the bytes too many (never inside a character); JSON escapes only add bytes, so the next round cuts
    what they added, and a few rounds suffice whatever the text."""
    data = compact(render(title, body))
    for text_is_title in (False, True):
        text = title if text_is_title else body
        while len(data) > limit and text:
            raw = text.encode()
            keep = len(raw) - (len(data) - limit) - len(ELLIPSIS.encode())
            text = raw[: max(0, keep)].decode(errors="ignore")
            shown = text + ELLIPSIS if text else ""
            data = compact(render(shown, "") if text_is_title else render(title, shown))
        if len(data) <= limit:
            break
        body = ""
    return data
