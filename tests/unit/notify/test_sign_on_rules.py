"""The sign-in's pure rules: the sealed round trip (state, PKCE verifier, nonce) across the provider's
redirect, which requests count as the console's own, and which providers notify may be pointed at."""

from __future__ import annotations

import pytest

from services.notify.operators.round_trip import (
    RoundTrip,
    RoundTripRefused,
    on_loopback,
    open_round_trip,
    same_origin,
    seal_round_trip,
)
from services.notify.settings import NotifySettings, secure_or_loopback
from shared.errors import ConfigError
from shared.settings import load_env

KEY = "unit-token-key-0123456789-0123456789-abcdef"
TRIP = RoundTrip(state="s-1", verifier="v" * 64, nonce="n-1", expires=1_000.0)


def test_a_round_trip_comes_back_whole_for_its_own_state() -> None:
    assert open_round_trip(KEY, seal_round_trip(KEY, TRIP), "s-1", now=999.0) == TRIP


def test_the_sealed_round_trip_shows_nothing_of_the_verifier() -> None:
    assert "v" * 16 not in seal_round_trip(KEY, TRIP)


@pytest.mark.parametrize(
    ("cookie", "state", "now"),
    [
        (None, "s-1", 999.0),  # no sign-in began in this browser
        ("", "s-1", 999.0),
        ("SEALED", None, 999.0),  # the provider's answer without a state
        ("SEALED", "s-2", 999.0),  # another sign-in's state
        ("SEALED", "s-1", 1_000.0),  # too late
        ("not base64 at all!", "s-1", 999.0),
        ("SEALED-under-another-key", "s-1", 999.0),
    ],
)
def test_a_round_trip_is_refused_unless_it_is_this_browsers_own_and_in_time(
    cookie: str | None, state: str | None, now: float
) -> None:
    if cookie == "SEALED":
        cookie = seal_round_trip(KEY, TRIP)
    elif cookie == "SEALED-under-another-key":
        cookie = seal_round_trip(KEY + "-other", TRIP)
    with pytest.raises(RoundTripRefused):
        open_round_trip(KEY, cookie, state, now=now)


def test_every_altered_character_of_the_cookie_is_refused() -> None:
    sealed = seal_round_trip(KEY, TRIP)
    for i in range(len(sealed) - 1):  # the last character may carry padding bits only
        altered = sealed[:i] + ("A" if sealed[i] != "A" else "B") + sealed[i + 1 :]
        with pytest.raises(RoundTripRefused):
            open_round_trip(KEY, altered, "s-1", now=999.0)


CONSOLE = "https://accueil.example.com"


@pytest.mark.parametrize(
    ("origin", "fetch_site", "allowed"),
    [
        (CONSOLE, "same-origin", True),
        (CONSOLE + "/", None, True),
        (None, None, True),  # no browser: curl, a script, carrying no one's cookie unasked
        (None, "none", True),  # typed in the address bar
        ("https://evil.example", None, False),
        ("https://shop.accueil.example.com", "same-site", False),  # same site, another origin
        (None, "cross-site", False),
        (CONSOLE, "cross-site", False),
        ("null", None, False),  # a sandboxed frame or a redirect from elsewhere
    ],
)
def test_only_the_consoles_own_page_may_use_its_session(
    origin: str | None, fetch_site: str | None, allowed: bool
) -> None:
    assert same_origin(CONSOLE, origin, fetch_site) is allowed


@pytest.mark.parametrize(
    ("url", "fine"),
    [
        ("https://login.example.com", True),
        ("https://login.example.com/realms/shop", True),
        ("http://localhost:9400", True),
        ("http://127.0.0.1:9400", True),
        ("http://[::1]:9400", True),
        ("http://login.example.com", False),
        ("http://10.0.0.5", False),
        ("ftp://login.example.com", False),
        ("https://", False),
    ],
)
def test_the_provider_is_reached_over_https_or_on_this_machine(url: str, fine: bool) -> None:
    assert secure_or_loopback(url) is fine
    assert on_loopback(url) is (fine and url.startswith("http://"))


SSO = {
    "ACCUEIL_OIDC_ISSUER": "https://login.example.com",
    "ACCUEIL_OIDC_CLIENT_ID": "console",
    "ACCUEIL_OIDC_CLIENT_SECRET": "s3cret",
    "ACCUEIL_PUBLIC_URL": "https://accueil.example.com",
}


def test_single_sign_on_is_configured_whole_or_not_at_all() -> None:
    assert load_env(NotifySettings, SSO).single_sign_on
    assert not load_env(NotifySettings, {}).single_sign_on
    for missing in SSO:
        with pytest.raises(ConfigError, match="together"):
            load_env(NotifySettings, {k: v for k, v in SSO.items() if k != missing})
    with pytest.raises(ConfigError, match="https"):
        load_env(NotifySettings, {**SSO, "ACCUEIL_OIDC_ISSUER": "http://login.example.com"})
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        load_env(NotifySettings, {**SSO, "ACCUEIL_PUBLIC_URL": "https://accueil.example.com/console"})
