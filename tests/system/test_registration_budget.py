"""Anyone may register a device, but not without limit from one address; behind the Ingress the
address is the client's, as the trusted proxy says, and nobody else's word for it counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from services.notify.settings import NotifySettings
from tests.conftest import RunningServices, free_socket, settings_for

BODY = {"platform": "web", "locale": "fr-FR"}


@asynccontextmanager
async def running_notify(
    db_url: str, config: NotifySettings, trusted_proxies: tuple[str, ...] = ()
) -> AsyncIterator[httpx.AsyncClient]:
    sock = free_socket()
    settings = settings_for(db_url, {"notify": sock.getsockname()[1]}, trusted_proxies=trusted_proxies)
    run = RunningServices(settings, ("notify",), {"notify": sock}, {"notify": config})
    try:
        await run.start("notify")
        async with httpx.AsyncClient(base_url=settings.notify_url, timeout=10) as client:
            yield client
    finally:
        await run.stop("notify")
        sock.close()


@pytest.fixture
async def notify(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_notify(db_url, NotifySettings(registrations_per_hour=3), ("127.0.0.1/32",)) as client:
        yield client


async def register(notify: httpx.AsyncClient, forwarded: str | None = None) -> httpx.Response:
    return await notify.post("/v1/devices", json=BODY, headers={"X-Forwarded-For": forwarded} if forwarded else {})


async def test_one_address_registers_a_few_devices_an_hour_then_waits(notify: httpx.AsyncClient) -> None:
    statuses = [(await register(notify, "203.0.113.7")).status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    r = await register(notify, "203.0.113.7")
    assert 0 < int(r.headers["retry-after"]) <= 3600 and "3 devices an hour" in r.json()["detail"]
    assert (await register(notify, "198.51.100.2")).status_code == 201  # another shopper is not held up


async def test_the_forwarded_address_is_believed_only_as_far_as_trusted_proxies_pass_it(
    notify: httpx.AsyncClient,
) -> None:
    # A client writing its own X-Forwarded-For before the proxy appends the real address: the real one counts.
    for i in range(3):
        assert (await register(notify, f"10.9.9.{i}, 203.0.113.9")).status_code == 201
    assert (await register(notify, "10.9.9.99, 203.0.113.9")).status_code == 429
    # Through two trusted hops (127.0.0.1 is trusted here), still the client's.
    assert (await register(notify, "203.0.113.9, 127.0.0.1")).status_code == 429


async def test_without_trusted_proxies_the_header_is_ignored(db_url: str) -> None:
    async with running_notify(db_url, NotifySettings(registrations_per_hour=2)) as client:
        statuses = [(await register(client, f"203.0.113.{i}")).status_code for i in range(3)]
    assert statuses == [201, 201, 429]  # one peer, one budget, whatever the header says


async def test_an_ipv6_client_counts_as_its_64_block(notify: httpx.AsyncClient) -> None:
    """One subscriber is given a whole /64: each of its addresses is the same client, not a fresh budget."""
    same_block = ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:2::abcd", "2001:db8:1:2:8000::77"]
    statuses = [(await register(notify, address)).status_code for address in same_block]
    assert statuses == [201, 201, 201, 429]
    assert (await register(notify, "2001:db8:1:3::1")).status_code == 201  # the next /64 is someone else


async def test_through_a_trusted_proxy_each_shopper_has_a_budget_of_their_own(db_url: str) -> None:
    """31 shoppers behind one Ingress, a budget of one each: all register; one of them again is held."""
    async with running_notify(db_url, NotifySettings(registrations_per_hour=1), ("127.0.0.1/32",)) as client:
        statuses = [(await register(client, f"198.51.100.{i}")).status_code for i in range(1, 32)]
        assert statuses == [201] * 31
        assert (await register(client, "198.51.100.7")).status_code == 429


async def test_by_default_a_store_full_of_shoppers_on_one_address_registers(db_url: str) -> None:
    """A store's Wi-Fi or a carrier's NAT puts many shoppers behind one address: the default budget
    lets them all in."""
    async with running_notify(db_url, NotifySettings()) as client:
        statuses = [(await register(client)).status_code for _ in range(31)]
    assert statuses == [201] * 31
