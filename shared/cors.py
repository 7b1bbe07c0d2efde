"""Which browser pages may call a service from another origin (CORS).

The shopper page is served by notify but also calls geo (pings, trips) and inventory (orders), each on
its own origin (its own port locally, its own host behind the Ingress). A browser lets a page read
those answers only if the service names the page's origin. Nobody is named unless the operator lists
them: an open CORS policy would let any site drive a device's token it has no business holding.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.config.cors import CORSConfig

# What the shopper SDK sends: its bearer token, JSON bodies and an order's idempotency key.
ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]
# What it must read back: how long to wait after a 429 or a 503.
EXPOSED_HEADERS = ["Retry-After"]
METHODS = ["GET", "POST", "PUT", "DELETE"]


def check_origin(origin: str) -> str:
    """An origin as browsers send it: scheme://host[:port], nothing more; ValueError otherwise."""
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{origin!r} is not an http(s) origin")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{origin!r} has more than scheme://host[:port]")
    return origin


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (what a Content-Security-Policy and CORS compare)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def cors_config(origins: tuple[str, ...]) -> CORSConfig | None:
    """None (no cross-origin answers at all) unless origins are listed."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=METHODS,  # type: ignore[arg-type]
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        allow_credentials=False,  # bearer tokens, never cookies
        max_age=600,
    )
