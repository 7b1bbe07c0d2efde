"""Where notify may send webhooks. Pure, apart from `resolution_refusal` (the event loop's resolver).

A webhook URL is given by an operator, but a mistyped or malicious one must never make notify call
into its own network: it must be https on a public address, or plain http on a loopback host the
operator listed in ACCUEIL_WEBHOOK_HOSTS. A host name is resolved and every address it gives must be
public (shared.egress.is_public, the rule push follows too) — at registration and again on every
connection (see sender.py).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.egress import is_public
from shared.errors import ConfigError

MAX_URL = 2048
# RFC 3986 characters only, without "@" (credentials) and "#" (fragment).
_URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?\[\]!$&'()*+,;=%]+$")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def unwrapped(address: str) -> IpAddress | None:
    """The address an IP literal means (an IPv4-mapped IPv6 one as its IPv4), None if not an IP: an
    operator may list ::ffff:127.0.0.1 as a loopback host."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _host_port(entry: str) -> tuple[str, int]:
    parts = urlsplit(f"//{entry.strip()}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ConfigError(f"ACCUEIL_WEBHOOK_HOSTS: bad port in {entry!r}") from exc
    if not host or not port or parts.path or parts.query or parts.username is not None:
        raise ConfigError(f"ACCUEIL_WEBHOOK_HOSTS: {entry!r} is not host:port")
    if host != "localhost" and not ((ip := unwrapped(host)) and ip.is_loopback):
        raise ConfigError(f"ACCUEIL_WEBHOOK_HOSTS: {entry!r} is not a loopback host")
    return host.lower(), port


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    listed: bool


@dataclass(frozen=True)
class WebhookHosts:
    listed: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def from_hosts(cls, hosts: Iterable[str]) -> WebhookHosts:
        return cls(frozenset(_host_port(h) for h in hosts))

    def is_listed(self, host: str, port: int) -> bool:
        return (host.lower(), port) in self.listed

    def parse(self, url: str) -> Target | str:
        """The URL's host and port, or why notify must not send to it (no name resolution here)."""
        if len(url) > MAX_URL or not _URL_CHARS.fullmatch(url):
            return "url is not a plain URL"
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return "url is malformed"
        if parts.scheme not in ("https", "http"):
            return "url must be https"
        if not host:
            return "url has no host"
        listed = self.is_listed(host, port)
        if parts.scheme == "http" and not listed:
            return "url must be https (plain http only for a loopback host of ACCUEIL_WEBHOOK_HOSTS)"
        if unwrapped(host) is not None and not listed and not is_public(host):
            return f"url must not point at a private, loopback, link-local or IPv4-carrying address ({host})"
        return Target(host, port, listed)

    def address_refusal(self, target: Target, address: str) -> str | None:
        if target.listed or is_public(address):
            return None
        return f"{target.host} resolves to {address}, which is not a public address"


async def resolution_refusal(hosts: WebhookHosts, target: Target) -> str | None:
    """Why the target's host must not be connected to after resolving it, or None."""
    if target.listed or unwrapped(target.host) is not None:
        return None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except OSError:
        return f"{target.host} does not resolve"
    for info in infos:
        reason = hosts.address_refusal(target, str(info[4][0]))
        if reason is not None:
            return reason
    return None if infos else f"{target.host} does not resolve"
