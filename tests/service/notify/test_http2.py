"""The push channels' HTTP/2 client against a real HTTP/2-over-TLS server: it keeps to the peer's
stream limit and flow-control windows, finishes what the peer promised to process after a GOAWAY and
sends the rest again, reports a lost connection and reconnects, gives up in time, and connects only
where the egress rules allow and over verified TLS with HTTP/2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.notify.push.egress import PushEgress
from services.notify.push.http2 import Http2Origin, NoAnswer, Refused
from services.notify.push.push_urls import PushServices
from tests.support.http2_peer import Http2Peer, Reply, Request
from tests.support.push_pki import TestPki, make_pki


@pytest.fixture
def pki(tmp_path: Path) -> TestPki:
    return make_pki(tmp_path / "pki")


def listed(peer: Http2Peer) -> PushServices:
    return PushServices.from_hosts([f"localhost:{peer.port}"])


@pytest.fixture
async def clients() -> AsyncIterator[list[Http2Origin]]:
    made: list[Http2Origin] = []
    yield made
    for client in made:
        await client.close()


async def client_for(peer: Http2Peer, pki: TestPki, made: list[Http2Origin]) -> Http2Origin:
    client = PushEgress(listed(peer), ca_file=str(pki.ca_file)).client(peer.url)
    made.append(client)
    return client


async def post(client: Http2Origin, body: bytes = b"{}", path: str = "/p", timeout_s: float = 10) -> bytes:
    response = await client.request(b"POST", path, [(b"x-test", b"1")], body, timeout_s)
    assert response.status == 200
    return response.body


@pytest.fixture
async def peer(pki: TestPki) -> AsyncIterator[Http2Peer]:
    async with Http2Peer(pki.server_context()) as server:
        yield server


def slow(seconds: float):  # type: ignore[no-untyped-def]
    async def answer(request: Request) -> Reply:
        await asyncio.sleep(seconds)
        return 200, [], request.body

    return answer


@pytest.mark.parametrize(("limit", "requests"), [(8, 200), (150, 1200)])
async def test_many_requests_share_one_connection_within_the_peers_stream_limit(
    limit: int, requests: int, pki: TestPki, clients: list[Http2Origin]
) -> None:
    async with Http2Peer(pki.server_context(), answer=slow(0.01), max_concurrent_streams=limit) as peer:
        client = await client_for(peer, pki, clients)
        bodies = await asyncio.gather(*(post(client, f'{{"n":{n}}}'.encode()) for n in range(requests)))
    assert sorted(bodies) == sorted(f'{{"n":{n}}}'.encode() for n in range(requests))
    assert peer.connections == 1 and len(peer.requests) == requests
    assert peer.most_in_flight == limit  # all it allowed, never more


async def test_a_body_larger_than_the_peers_windows_goes_through_in_turn(
    pki: TestPki, clients: list[Http2Origin]
) -> None:
    async with Http2Peer(pki.server_context(), initial_window_size=1000) as peer:
        client = await client_for(peer, pki, clients)
        big = bytes(range(256)) * 200
        assert await asyncio.gather(post(client, big), post(client, big[::-1])) == [big, big[::-1]]


async def test_after_goaway_the_promised_streams_finish_and_the_others_go_out_on_a_new_connection(
    pki: TestPki, clients: list[Http2Origin]
) -> None:
    async with Http2Peer(pki.server_context(), answer=slow(0.05), goaway_after=5) as peer:
        client = await client_for(peer, pki, clients)
        bodies = await asyncio.gather(*(post(client, str(n).encode()) for n in range(40)))
    assert sorted(bodies) == sorted(str(n).encode() for n in range(40))
    assert peer.connections == 2
    assert sorted(r.body for r in peer.requests) == sorted(bodies)  # each processed once


async def test_a_refused_stream_is_sent_again(pki: TestPki, clients: list[Http2Origin]) -> None:
    async with Http2Peer(pki.server_context(), refuse_first=3) as peer:
        client = await client_for(peer, pki, clients)
        assert await asyncio.gather(*(post(client, b"%d" % n) for n in range(5))) == [b"%d" % n for n in range(5)]
    assert len(peer.requests) == 5


async def test_a_lost_connection_fails_what_was_in_flight_and_the_next_request_reconnects(
    pki: TestPki, clients: list[Http2Origin]
) -> None:
    async with Http2Peer(pki.server_context(), answer=slow(0.2), drop_after=2) as peer:
        client = await client_for(peer, pki, clients)
        outcomes = await asyncio.gather(*(post(client) for _ in range(3)), return_exceptions=True)
        assert all(isinstance(o, NoAnswer) and "lost" in str(o) for o in outcomes)
        assert await post(client, b"again") == b"again"
    assert peer.connections == 2


async def test_a_slow_stream_gives_up_at_its_timeout_and_frees_its_stream_on_a_live_connection(
    pki: TestPki, clients: list[Http2Origin]
) -> None:
    async def answer(request: Request) -> Reply:
        await asyncio.sleep({b"stuck": 5, b"slow": 0.05}.get(request.body, 0))
        return 200, [], request.body

    async with Http2Peer(pki.server_context(), answer=answer, max_concurrent_streams=2) as peer:
        client = await client_for(peer, pki, clients)
        stuck = asyncio.create_task(post(client, b"stuck", timeout_s=1))
        assert await post(client, b"slow") == b"slow"  # the peer is heard while "stuck" waits
        with pytest.raises(NoAnswer, match="within 1 s"):
            await stuck
        assert await asyncio.gather(post(client, b"a"), post(client, b"b")) == [b"a", b"b"]  # both streams back
    assert peer.resets == 1  # the cancel went out before the next requests, on the same connection
    assert peer.connections == 1


async def test_a_connection_silent_since_a_request_timed_out_is_replaced(
    pki: TestPki, clients: list[Http2Origin]
) -> None:
    async def answer(request: Request) -> Reply:
        await asyncio.sleep(5 if request.body == b"stuck" else 0)
        return 200, [], request.body

    async with Http2Peer(pki.server_context(), answer=answer) as peer:
        client = await client_for(peer, pki, clients)
        with pytest.raises(NoAnswer, match="within 0.2 s"):
            await post(client, b"stuck", timeout_s=0.2)
        assert await post(client, b"next") == b"next"
    assert peer.connections == 2


async def test_a_host_resolving_to_a_private_address_is_refused_unless_listed(peer: Http2Peer, pki: TestPki) -> None:
    client = PushEgress(PushServices(), ca_file=str(pki.ca_file)).client(peer.url)
    with pytest.raises(Refused, match="no public address"):
        await client.request(b"GET", "/", [], b"", 5)
    assert peer.connections == 0


async def test_a_certificate_the_trust_store_does_not_vouch_for_is_no_connection(peer: Http2Peer) -> None:
    client = PushEgress(listed(peer)).client(peer.url)  # the system's trust store only
    with pytest.raises(NoAnswer, match="CERTIFICATE_VERIFY_FAILED"):
        await client.request(b"GET", "/", [], b"", 5)


async def test_a_server_without_http2_is_no_connection(pki: TestPki) -> None:
    async with Http2Peer(pki.server_context(alpn=("http/1.1",))) as peer:
        client = PushEgress(listed(peer), ca_file=str(pki.ca_file)).client(peer.url)
        with pytest.raises(NoAnswer, match="does not speak HTTP/2"):
            await client.request(b"GET", "/", [], b"", 5)


async def test_nobody_listening_is_no_answer(pki: TestPki, unused_tcp_port: int) -> None:
    services = PushServices.from_hosts([f"localhost:{unused_tcp_port}"])
    client = PushEgress(services, ca_file=str(pki.ca_file)).client(f"https://localhost:{unused_tcp_port}")
    with pytest.raises(NoAnswer, match="cannot connect"):
        await client.request(b"GET", "/", [], b"", 5)
