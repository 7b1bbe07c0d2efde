"""The catalogue as the browsers read it: GET /i18n/{locale}.json, every text of a locale by its full
key, open without a token, revalidated by its ETag."""

from __future__ import annotations

from services.notify import catalogue
from tests.conftest import System


async def test_a_locales_texts_are_served_whole_to_anyone_with_the_page_headers(system: System) -> None:
    for locale in catalogue.LOCALES:
        r = await system.notify.get(f"/i18n/{locale}.json")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json; charset=utf-8"
        assert r.headers["content-language"] == locale
        assert r.json() == catalogue.texts(locale)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
        assert r.headers["cache-control"] == "no-cache"  # revalidated at each load: a deploy's words at once
    french = (await system.notify.get("/i18n/fr.json")).json()
    assert french["console.signin.submit"] == "Se connecter" and french["shop.my_data_title"] == "Mes données"


async def test_a_browser_holding_the_texts_gets_a_304_and_a_changed_tag_the_texts(system: System) -> None:
    first = await system.notify.get("/i18n/en.json")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag != (await system.notify.get("/i18n/fr.json")).headers["etag"]
    again = await system.notify.get("/i18n/en.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    stale = await system.notify.get("/i18n/en.json", headers={"If-None-Match": '"an-older-catalogue"'})
    assert stale.status_code == 200 and stale.json() == first.json()


async def test_an_unknown_locale_is_a_404_naming_the_locale(system: System) -> None:
    for name in ("de.json", "fr.txt", "fr", "..json"):
        r = await system.notify.get(f"/i18n/{name}")
        assert r.status_code == 404, (name, r.text)
        assert r.json()["field"] == "locale", r.text
        assert "en.json" in r.json()["detail"]
