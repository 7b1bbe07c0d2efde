"""The pages a service serves itself (no CDN, no build step): their files and their headers."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from shared.errors import NotFound

PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    # Everything from our own origin, nothing inline: a script injected into a page cannot run.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@cache
def static_file(package: str, name: str) -> bytes:
    """A file of the package's `static/` folder, read once."""
    return resources.files(package).joinpath("static", name).read_bytes()


def page_headers(connect: tuple[str, ...] = (), images: tuple[str, ...] = ()) -> dict[str, str]:
    """The page headers; a page that calls other origins (`connect`, each `scheme://host[:port]`) may
    reach those and no others, and one that shows pictures from others (`images`: a map's tiles) those."""
    policy = PAGE_HEADERS["Content-Security-Policy"]
    if connect:
        sources = " ".join(("'self'", *sorted(set(connect))))
        policy = policy.replace("default-src 'self';", f"default-src 'self'; connect-src {sources};")
    if images:
        policy = policy.replace("img-src 'self' data:;", f"img-src 'self' data: {' '.join(sorted(set(images)))};")
    if policy == PAGE_HEADERS["Content-Security-Policy"]:
        return PAGE_HEADERS
    return {**PAGE_HEADERS, "Content-Security-Policy": policy}


def page_file(
    package: str, name: str, media_type: str, connect: tuple[str, ...] = (), images: tuple[str, ...] = ()
) -> Response[bytes]:
    """A page's file with the page headers (`media_type` without its charset: UTF-8 is added to text)."""
    body = static_file(package, name)
    typed = media_type if media_type.startswith("image/") else f"{media_type}; charset=utf-8"
    return Response(body, media_type=typed, headers=page_headers(connect, images))


def page_routes(package: str, path: str, page: str, assets: Mapping[str, str]) -> list[HTTPRouteHandler]:
    """A page at `path` (its `page` file) and its `assets` (file name -> media type) under `path/`,
    each open without a token: the page signs in itself."""
    options: dict[str, Any] = {"exclude_from_auth": True, "include_in_schema": False, "sync_to_thread": False}

    def serve_page() -> Response[bytes]:
        return page_file(package, page, "text/html")

    def serve_asset(name: FromPath[str]) -> Response[bytes]:
        if name not in assets:
            raise NotFound(f"no such file {name!r}")
        return page_file(package, name, assets[name])

    key = path.strip("/")
    return [
        get(path, name=f"{key}-page", **options)(serve_page),
        get(f"{path}/{{name:str}}", name=f"{key}-asset", **options)(serve_asset),
    ]
