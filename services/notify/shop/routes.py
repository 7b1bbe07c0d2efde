"""The shopper web SDK (/sdk/accueil.js and its service worker) and the demo store's shopper page
(/shop) built on it: static files served by notify itself, no CDN and no build step."""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.params import FromPath

from services.notify.context import NotifyContext
from shared.context import FromContext
from shared.cors import origin_of
from shared.errors import NotFound
from shared.pages import page_file, page_headers

_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}
_SDK = ("accueil.js", "accueil-sw.js")
_PAGE_FILES = ("shop.js", "shop.css")


class ShopConfig(msgspec.Struct, kw_only=True):
    """Where the page's SDK finds each service (notify is the page's own origin)."""

    geo: str
    inventory: str


def _config(ctx: NotifyContext) -> ShopConfig:
    return ShopConfig(
        geo=(ctx.config.public_geo_url or ctx.settings.geo_url).rstrip("/"),
        inventory=(ctx.config.public_inventory_url or ctx.settings.inventory_url).rstrip("/"),
    )


def _file(name: str, connect: tuple[str, ...] = ()) -> Response[bytes]:
    return page_file(__package__, name, _TYPES[name[name.rindex(".") :]], connect)


@get("/shop", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def shop_page(ctx: FromContext[NotifyContext]) -> Response[bytes]:
    """The demo store's shopper page: consent, order, "I'm on my way", the drive in."""
    config = _config(ctx)
    return _file("shop.html", (origin_of(config.geo), origin_of(config.inventory)))


@get("/shop/config.json", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def shop_config(ctx: FromContext[NotifyContext]) -> Response[ShopConfig]:
    return Response(_config(ctx), headers=page_headers())


@get("/shop/{name:str}", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def shop_asset(name: FromPath[str]) -> Response[bytes]:
    if name not in _PAGE_FILES:
        raise NotFound(f"no such file {name!r}")
    return _file(name)


@get("/sdk/{name:str}", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def sdk_file(name: FromPath[str]) -> Response[bytes]:
    """The SDK and its service worker (whose scope is /sdk/: it shows pushes, it controls no page)."""
    if name not in _SDK:
        raise NotFound(f"no such file {name!r}")
    return _file(name)


ROUTES = [shop_page, shop_config, shop_asset, sdk_file]
