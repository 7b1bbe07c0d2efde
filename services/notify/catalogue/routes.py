"""The catalogue for the browsers: `GET /i18n/{locale}.json`, every text of a locale by its full key,
read by the console, the pages and the shop page's SDK. Public (the texts are what any visitor is
shown anyway) and revalidated by its ETag: a deploy's new words are seen at the next load."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from services.notify import catalogue
from shared.errors import NotFound
from shared.pages import page_headers


@cache
def _body(locale: catalogue.Locale) -> tuple[bytes, str]:
    """The locale's texts as JSON, and its ETag (the same bytes, the same tag, on every replica)."""
    body = json.dumps(catalogue.texts(locale), ensure_ascii=False, sort_keys=True).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@get("/i18n/{name:str}", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def texts(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    """`/i18n/fr.json`: the French texts; 304 when the browser already holds them (If-None-Match)."""
    locale = name.removesuffix(".json")
    if not name.endswith(".json") or locale not in catalogue.LOCALES:
        known = ", ".join(f"{known}.json" for known in catalogue.LOCALES)
        raise NotFound(f"no texts for locale {locale!r}: {known}", field="locale")
    body, etag = _body(locale)
    headers = {**page_headers(), "ETag": etag, "Content-Language": locale}
    if etag in request.headers.get("if-none-match", ""):
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type="application/json; charset=utf-8", headers=headers)


ROUTES = [texts]
