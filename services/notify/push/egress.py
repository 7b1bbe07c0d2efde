"""Where native push requests may go, and the TLS they are made with.

The APNs and FCM origins and the token endpoint come from the operator's configuration, not from
clients, but they follow the Web Push egress rules all the same: https only, and a public address
unless the operator listed the host in ACCUEIL_PUSH_HOSTS (a private gateway, a test's stand-in).
The certificate is checked against the system's trust store plus ACCUEIL_PUSH_CA_FILE, added to it,
never replacing it.
"""

from __future__ import annotations

import ipaddress
import ssl
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver

from services.notify.push.http2 import Http2Origin
from services.notify.push.push_urls import PushServices
from shared.egress import PublicOnlyResolver, is_public
from shared.errors import ConfigError


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """The default trust store, plus the PEM certificates of `ca_file`; HTTP/2 by ALPN only."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"ACCUEIL_PUSH_CA_FILE: no PEM certificate read ({type(exc).__name__})") from None
    context.set_alpn_protocols(["h2"])
    return context


def origin_of(url: str, variable: str) -> str:
    """`https://host[:port]` from a configured URL, or ConfigError naming the variable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{variable}: not a URL") from None
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(f"{variable}: must be an https URL")
    if parts.username is not None or parts.query or parts.fragment:
        raise ConfigError(f"{variable}: must be a plain https URL, without credentials, query or fragment")
    host = parts.hostname.lower()
    netloc = f"[{host}]" if ":" in host else host
    return f"https://{netloc}" if port in (None, 443) else f"https://{netloc}:{port}"


class PushEgress:
    """The egress rules and the TLS context every native push connection is made with."""

    def __init__(
        self,
        services: PushServices = PushServices(),
        *,
        ca_file: str = "",
        resolver: AbstractResolver | None = None,
        connect_timeout_s: float = 10.0,
    ) -> None:
        """`services`: the hosts ACCUEIL_PUSH_HOSTS lists are exempt from the public-address rule.
        `resolver`: the name resolution under the rules (the system's by default). Made inside the
        event loop (the system resolver belongs to it)."""
        self._listed = services.listed
        self._tls = tls_context(ca_file)
        self._resolver = PublicOnlyResolver(self._listed, resolver)
        self._connect_timeout_s = connect_timeout_s

    def refusal(self, origin: str) -> str | None:
        """Why no request may go to `origin` (checked without resolving its name: the resolver checks
        the address at each connection), or None."""
        parts = urlsplit(origin)
        if parts.scheme != "https":
            return f"{origin} is not https"
        host, port = (parts.hostname or "").lower(), parts.port or 443
        if (host, port) in self._listed:
            return None
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return None  # a name: its addresses are checked when connecting
        return None if is_public(host) else f"{host} is not a public address (and not in ACCUEIL_PUSH_HOSTS)"

    def client(self, origin: str) -> Http2Origin:
        """A client for `origin`, connecting on first use; its owner closes it."""
        return Http2Origin(
            origin, ssl_context=self._tls, resolver=self._resolver, connect_timeout_s=self._connect_timeout_s
        )
