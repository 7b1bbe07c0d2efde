"""Who is on the other end of a request: the client's own address, as far as it can be trusted.

Behind an Ingress, the peer of every request is the proxy; the client's address travels in
X-Forwarded-For, which anyone can also write. So the header is believed only when the peer is one of
the configured proxies (ACCUEIL_TRUSTED_PROXIES, CIDRs), and only as far back as it passes through them:
the address is the rightmost one that is not a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from litestar.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in net for net in trusted)


def client_address(scope: Scope, trusted_proxies: tuple[str, ...]) -> str:
    """The client's address for this request (the peer's own, unless a trusted proxy says otherwise)."""
    peer = _address((scope.get("client") or ("",))[0])
    trusted = networks(trusted_proxies)
    if not _trusted(peer, trusted):
        return str(peer) if peer is not None else "unknown"
    hops = [value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"]
    chain = [_address(part) for hop in hops for part in hop.split(",")]
    for address in reversed(chain):
        if address is None:
            break  # a malformed entry: nothing left of it can be believed
        if not _trusted(address, trusted):
            return str(address)
    return str(peer)
