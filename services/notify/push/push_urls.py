"""Push URLs: which push services notify may send to, and what a subscription's keys must be. Pure, no I/O.

A push subscription is an address handed to us by a client: if any URL were accepted, a device could
make notify send requests into our own network. So an endpoint must be https on a browser vendor's
push service, or on a host the operator listed in ACCUEIL_PUSH_HOSTS (plain http only for loopback
hosts listed there). The same check runs when a subscription is saved, before each send (the list
may have changed) and on every redirect hop.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from shared.egress import is_loopback
from shared.errors import ConfigError

# The browsers' own push services: Chrome/Edge/Android (FCM), Firefox (autopush), Safari (APNs web
# push), legacy Edge (WNS). A suffix entry matches its subdomains only.
WELL_KNOWN = ("fcm.googleapis.com", ".push.services.mozilla.com", ".push.apple.com", ".notify.windows.com")
MAX_ENDPOINT = 2048
# RFC 3986 characters only, without "@" (credentials) and "#" (fragment): no spaces, backslashes or
# other bytes that URL parsers disagree on.
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?\[\]!$&'()*+,;=%]+$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


class PushUrlRefused(Exception):
    """A push endpoint outside the allowed push services."""


def _host_port(entry: str) -> tuple[str, int]:
    """'host:port', '[v6]:port' or 'host' (port 443) from ACCUEIL_PUSH_HOSTS."""
    parts = urlsplit(f"//{entry.strip()}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ConfigError(f"ACCUEIL_PUSH_HOSTS: bad port in {entry!r}") from exc
    if not host or parts.path or parts.query or parts.username is not None:
        raise ConfigError(f"ACCUEIL_PUSH_HOSTS: {entry!r} is not host:port")
    return host.lower(), port or 443


@dataclass(frozen=True)
class PushServices:
    """The push services a subscription may name: the browsers' own, and ACCUEIL_PUSH_HOSTS."""

    listed: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def from_hosts(cls, hosts: Iterable[str]) -> PushServices:
        return cls(frozenset(_host_port(h) for h in hosts))

    def refusal(self, url: str) -> str | None:
        """Why notify must not send to this URL, or None if it may."""
        if len(url) > MAX_ENDPOINT or not _URL_CHARS.fullmatch(url):
            return "endpoint is not a plain URL"
        try:
            parts = urlsplit(url)
        except ValueError:  # "https://[::1/x": a bracket never closed
            return "endpoint is not a plain URL"
        if parts.scheme not in ("https", "http"):
            return "endpoint must be an https URL"
        try:
            host, port = (parts.hostname or "").lower(), parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return "endpoint has a bad port"
        listed = (host, port) in self.listed
        if parts.scheme == "http":
            if listed and is_loopback(host):
                return None
            return "endpoint must be an https URL"
        if listed:
            return None
        if port == 443 and any(host == w or (w.startswith(".") and host.endswith(w)) for w in WELL_KNOWN):
            return None
        return f"{host} is not a known push service (allowed: {', '.join(WELL_KNOWN)} and ACCUEIL_PUSH_HOSTS)"

    def check(self, url: str) -> None:
        reason = self.refusal(url)
        if reason is not None:
            raise PushUrlRefused(reason)


def b64url_decode(value: str) -> bytes | None:
    """Decode base64url with or without padding; None if it is not base64url."""
    if not _B64URL.fullmatch(value):
        return None
    stripped = value.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except ValueError:
        return None


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def p256dh_refusal(value: str) -> str | None:
    """The subscriber's key must be an uncompressed point on P-256 (65 bytes, 0x04 first)."""
    raw = b64url_decode(value)
    if raw is None:
        return "p256dh must be base64url"
    if len(raw) != 65 or raw[0] != 4:
        return "p256dh must be an uncompressed P-256 public key (65 bytes)"
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return "p256dh is not a point on the P-256 curve"
    return None


def auth_refusal(value: str) -> str | None:
    raw = b64url_decode(value)
    if raw is None:
        return "auth must be base64url"
    if len(raw) != 16:
        return "auth must be a 16-byte secret"
    return None
