"""Requests to addresses handed to us by clients (push endpoints, webhook URLs) reach the public
internet only: every connection's host is resolved here, and an address that is not global
(loopback, private, link-local...) or that carries an IPv4 address inside (IPv4-mapped, NAT64, 6to4,
Teredo) is refused, at each connection and so on every redirect hop. A host the operator listed
(ACCUEIL_PUSH_HOSTS, a test's local stand-in) is exempt: it was chosen, not handed to us.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver


class PrivateAddress(Exception):
    """A host that resolves to no public address."""


EMBEDDING_IPV4 = tuple(
    ipaddress.IPv6Network(prefix)
    for prefix in (
        "::ffff:0:0/96",  # IPv4-mapped: the host's own stack speaks IPv4 to the address inside
        "64:ff9b::/96",  # NAT64, well-known prefix (RFC 6052)
        "64:ff9b:1::/48",  # NAT64, local-use prefix (RFC 8215)
        "2002::/16",  # 6to4 (RFC 3056)
        "2001::/32",  # Teredo (RFC 4380)
    )
)
"""IPv6 prefixes whose addresses reach an IPv4 one through a translator or a relay. Refused whatever IPv4
address they carry: a gateway in our network may take them to its own neighbours, which the address
does not show (and the NetworkPolicy refuses them too, k8s/)."""


def is_loopback(host: str) -> bool:
    """A host name or address that stays on this machine (`localhost`, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_public(address: str) -> bool:
    """A global unicast address that is what it says: no IPv4 address hidden inside."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and any(ip in prefix for prefix in EMBEDDING_IPV4):
        return False
    return ip.is_global and not ip.is_multicast


class PublicOnlyResolver(AbstractResolver):
    """Resolves with `inner` (the system's resolver by default) and keeps public addresses only."""

    def __init__(self, listed: Collection[tuple[str, int]] = (), inner: AbstractResolver | None = None) -> None:
        self._listed = {(host.lower(), port) for host, port in listed}
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if (host.lower(), port) in self._listed:
            return found
        public = [r for r in found if is_public(r["host"])]
        if not public:
            raise PrivateAddress(f"{host} resolves to no public address")
        return public

    async def close(self) -> None:
        await self._inner.close()
