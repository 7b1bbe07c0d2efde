"""What the console's sign-in keeps across the provider's redirect, and which requests count as the
console's own: pure rules, no I/O.

The state, the PKCE verifier and the nonce of one sign-in live in a short-lived cookie sealed with
AES-256-GCM under a key derived from notify's token key (shared/keys.py): the browser holds them but can
neither read the verifier nor forge a round trip, and no replica needs a table or sticky sessions to
finish a sign-in another began.
"""

from __future__ import annotations

import hmac
import time
from urllib.parse import urlsplit

import msgspec

from shared import keys
from shared.egress import is_loopback
from shared.sealed import Unsealable, open_sealed, seal

ROUND_TRIP_COOKIE = "accueil_sign_in"
SESSION_COOKIE = "accueil_console"
ROUND_TRIP_S = 600
"""A sign-in must come back from the provider within this long."""
_BOUND_TO = b"notify console sign-in"


class RoundTrip(msgspec.Struct, frozen=True):
    state: str
    verifier: str
    nonce: str
    expires: float


class RoundTripRefused(ValueError):
    """Altered, expired, sealed under another key, or for another sign-in."""


def seal_round_trip(token_key: str, trip: RoundTrip) -> str:
    key = keys.derive(token_key, keys.CONSOLE_SIGN_IN)
    return keys.b64url(seal(key, 1, msgspec.json.encode(trip), _BOUND_TO))


def open_round_trip(token_key: str, cookie: str | None, state: str | None, now: float | None = None) -> RoundTrip:
    """The round trip the cookie holds, if it is the one `state` (from the provider's redirect) names
    and has not expired."""
    if not cookie or not state:
        raise RoundTripRefused("no sign-in under way in this browser")
    key = keys.derive(token_key, keys.CONSOLE_SIGN_IN)
    try:
        raw = keys.b64decode(cookie)
        trip = msgspec.json.decode(open_sealed(key, raw, _BOUND_TO), type=RoundTrip)
    except (ValueError, Unsealable, msgspec.DecodeError) as exc:
        raise RoundTripRefused("the sign-in cookie was altered") from exc
    if trip.expires <= (time.time() if now is None else now):
        raise RoundTripRefused("the sign-in took too long; sign in again")
    if not hmac.compare_digest(trip.state.encode(), state.encode()):
        raise RoundTripRefused("the answer is for another sign-in (state)")
    return trip


def on_loopback(url: str) -> bool:
    """notify reached on this machine (where a browser takes plain http as a secure context)."""
    return is_loopback(urlsplit(url).hostname or "")


def same_origin(public_url: str, origin: str | None, fetch_site: str | None) -> bool:
    """Whether a state-changing console request (sign-out) comes from the console's own page.

    The session cookie is SameSite=Lax, so browsers leave it off cross-site POSTs already; this check
    holds even for a browser that ignores SameSite, and for a same-site but cross-origin page (another
    host of the retailer's domain). A browser names where a POST comes from in `Origin` (always, for a
    POST) and, in secure contexts, in `Sec-Fetch-Site`: either one naming another origin refuses it. A
    request carrying neither comes from no browser (curl, a script): it carries no one's cookie unless
    its author put it there, so it is no forgery."""
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    return origin is None or origin.rstrip("/") == public_url.rstrip("/")
