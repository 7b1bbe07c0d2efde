"""Requests to addresses handed to us by clients (push endpoints, webhook URLs) reach the public
internet only: every connection's host is resolved here, and an address that is not global
(loopback, private, link-local, an IPv4-mapped IPv6 of those...) is refused, at each connection and so
on every redirect hop. A host the operator listed (ACCUEIL_PUSH_HOSTS, a test's local stand-in) is
exempt: it was chosen, not handed to us.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver


class PrivateAddress(Exception):
    """A host that resolves to no public address."""


def is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
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
