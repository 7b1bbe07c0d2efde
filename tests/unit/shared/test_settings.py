from __future__ import annotations

import pytest

from shared.errors import ConfigError
from shared.settings import load_settings

GOOD = {
    "DATABASE_URL": "postgresql://localhost/accueil",
    "ACCUEIL_ADMIN_TOKEN": "a" * 24,
    "ACCUEIL_TOKEN_KEY": "k" * 40,
}


def test_a_missing_database_url_is_named_by_its_variable() -> None:
    env = {k: v for k, v in GOOD.items() if k != "DATABASE_URL"}
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings(env)


def test_a_short_admin_token_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigError, match="ACCUEIL_ADMIN_TOKEN"):
        load_settings({**GOOD, "ACCUEIL_ADMIN_TOKEN": "short"})


def test_a_port_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ConfigError, match="ACCUEIL_GEO_PORT"):
        load_settings({**GOOD, "ACCUEIL_GEO_PORT": "eighty"})


def test_service_urls_follow_the_ports_unless_set() -> None:
    settings = load_settings({**GOOD, "ACCUEIL_INVENTORY_PORT": "9102", "ACCUEIL_NOTIFY_URL": "http://notify:8003"})
    assert settings.inventory_url == "http://127.0.0.1:9102"
    assert settings.geo_url == "http://127.0.0.1:8001"
    assert settings.notify_url == "http://notify:8003"


def test_push_hosts_are_a_comma_separated_list() -> None:
    settings = load_settings({**GOOD, "ACCUEIL_PUSH_HOSTS": "127.0.0.1:9999, push.example:443,"})
    assert settings.push_hosts == ("127.0.0.1:9999", "push.example:443")


def test_no_page_elsewhere_may_call_a_service_unless_its_origin_is_listed() -> None:
    assert load_settings(GOOD).cors_origins == ()
    listed = load_settings({**GOOD, "ACCUEIL_CORS_ORIGINS": "https://notify.example.com, http://127.0.0.1:8003"})
    assert listed.cors_origins == ("https://notify.example.com", "http://127.0.0.1:8003")


@pytest.mark.parametrize("origin", ["*", "notify.example.com", "https://notify.example.com/shop", "ftp://x.example"])
def test_a_cors_origin_is_scheme_host_and_port_only(origin: str) -> None:
    with pytest.raises(ConfigError, match="ACCUEIL_CORS_ORIGINS"):
        load_settings({**GOOD, "ACCUEIL_CORS_ORIGINS": origin})
