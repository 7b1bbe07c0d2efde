"""The console's map tiles from the configuration: OpenStreetMap's unless told otherwise, none when set
empty, one fixed origin (the page's Content-Security-Policy names it), and that origin alone added to
where the page may show images from."""

from __future__ import annotations

import pytest

from services.notify.settings import NotifySettings
from shared.errors import ConfigError
from shared.pages import PAGE_HEADERS, page_headers
from shared.settings import load_env


def test_the_tiles_are_openstreetmaps_unless_set_and_none_when_set_empty() -> None:
    assert load_env(NotifySettings, {}).console_tile_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert load_env(NotifySettings, {"ACCUEIL_CONSOLE_TILE_URL": ""}).console_tile_url == ""
    own = "https://tiles.example.com:8443/osm/{z}/{x}/{y}.png"
    assert load_env(NotifySettings, {"ACCUEIL_CONSOLE_TILE_URL": own}).console_tile_url == own
    # Other settings set empty still keep their default.
    assert load_env(NotifySettings, {"ACCUEIL_VAPID_SUBJECT": ""}).vapid_subject == "mailto:webpush@example.com"


@pytest.mark.parametrize(
    "url",
    [
        "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",  # hosts a policy cannot name in advance
        "ftp://tiles.example.com/{z}/{x}/{y}.png",
        "https://tiles.example.com/tile.png",  # no {z}: not a tile template
        "//tiles.example.com/{z}/{x}/{y}.png",
    ],
)
def test_a_tile_url_without_one_fixed_http_origin_stops_the_start(url: str) -> None:
    with pytest.raises(ConfigError, match="ACCUEIL_CONSOLE_TILE_URL"):
        load_env(NotifySettings, {"ACCUEIL_CONSOLE_TILE_URL": url})


def test_a_page_may_show_images_from_the_origins_it_names_and_no_other() -> None:
    policy = page_headers(("http://geo:8001",), ("https://tiles.example.com",))["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example.com;" in policy
    assert "connect-src 'self' http://geo:8001;" in policy
    assert "script-src" not in policy and "default-src 'self';" in policy
    assert page_headers() is PAGE_HEADERS
