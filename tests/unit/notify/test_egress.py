"""Push requests reach public addresses only, whatever name a subscription gives: each connection's
host is resolved and checked, so a name pointing into our own network is refused."""

from __future__ import annotations

import pytest

from services.notify.push.egress import PushEgress
from services.notify.push.push_urls import PushServices
from services.notify.push.webpush import push_session
from shared.egress import PrivateAddress, PublicOnlyResolver, is_public
from tests.support.resolver import StaticResolver


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "192.168.1.20", "169.254.169.254", "::1", "fe80::1", "::ffff:127.0.0.1", "fc00::1"],
)
async def test_a_push_service_name_pointing_into_a_private_network_is_refused(address: str) -> None:
    world = StaticResolver({"fcm.googleapis.com": address})
    session = push_session(PushServices(), 5, resolver=world)
    try:
        with pytest.raises(PrivateAddress):
            await session.post("https://fcm.googleapis.com/wp/abc", data=b"x")
    finally:
        await session.close()


async def test_a_public_address_passes_and_a_listed_host_is_the_operators_choice() -> None:
    world = StaticResolver({"fcm.googleapis.com": "142.250.74.106", "push.local": "127.0.0.1"})
    resolver = PublicOnlyResolver({("push.local", 8443)}, world)
    assert [r["host"] for r in await resolver.resolve("fcm.googleapis.com", 443)] == ["142.250.74.106"]
    assert [r["host"] for r in await resolver.resolve("push.local", 8443)] == ["127.0.0.1"]
    with pytest.raises(PrivateAddress):
        await resolver.resolve("push.local", 443)  # listed with another port only


def test_only_global_addresses_are_public() -> None:
    assert is_public("142.250.74.106") and is_public("2a00:1450:4007:80f::200a")
    assert not any(is_public(a) for a in ("100.64.0.1", "0.0.0.0", "224.0.0.1", "::ffff:10.0.0.1", "nonsense"))


def test_a_malformed_endpoint_is_refused_not_a_crash() -> None:
    assert PushServices().refusal("https://[::1/x") == "endpoint is not a plain URL"


# Addresses that carry an IPv4 one inside: a NAT64 gateway, a 6to4 or Teredo relay, or the host's own
# stack would take the connection to that IPv4 address, which the IPv6 one hides (here, loopback).
EMBEDDING_IPV4 = [
    "64:ff9b::7f00:1",  # NAT64, well-known prefix
    "64:ff9b:1::7f00:1",  # NAT64, local-use prefix
    "2002:7f00:1::1",  # 6to4
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "::ffff:127.0.0.1",  # IPv4-mapped
    "64:ff9b::808:808",  # even when the IPv4 inside is public: the rule does not look inside
    "::ffff:8.8.8.8",
]


@pytest.mark.parametrize("address", EMBEDDING_IPV4)
async def test_an_address_embedding_an_ipv4_one_is_not_public(address: str) -> None:
    assert not is_public(address)
    assert PushEgress().refusal(f"https://[{address}]") is not None


@pytest.mark.parametrize("address", EMBEDDING_IPV4)
async def test_a_push_service_name_resolving_to_an_address_embedding_an_ipv4_one_is_refused(address: str) -> None:
    resolver = PublicOnlyResolver((), StaticResolver({"fcm.googleapis.com": address}))
    with pytest.raises(PrivateAddress):
        await resolver.resolve("fcm.googleapis.com", 443)


async def test_a_public_ipv6_address_is_allowed() -> None:
    assert is_public("2001:4860:4860::8888")
    resolver = PublicOnlyResolver((), StaticResolver({"fcm.googleapis.com": "2a00:1450:4007:80f::200a"}))
    assert [r["host"] for r in await resolver.resolve("fcm.googleapis.com", 443)] == ["2a00:1450:4007:80f::200a"]
