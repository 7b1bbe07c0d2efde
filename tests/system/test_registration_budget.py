"""Anyone may register a device, but not without limit from one address; behind the Ingress the
address is the client's, as the trusted proxy says, and nobody else's word for it counts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.notify.settings import NotifySettings
from tests.conftest import RunningServices, free_socket, settings_for

BODY = {"platform": "web", "locale": "fr-FR"}


@pytest.fixture
async def notify(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    sock = free_socket()
    settings = settings_for(db_url, {"notify": sock.getsockname()[1]}, trusted_proxies=("127.0.0.1/32",))
    run = RunningServices(settings, ("notify",), {"notify": sock}, {"notify": NotifySettings(registrations_per_hour=3)})
    try:
        await run.start("notify")
        async with httpx.AsyncClient(base_url=settings.notify_url, timeout=10) as client:
            yield client
    finally:
        await run.stop("notify")
        sock.close()


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
    sock = free_socket()
    settings = settings_for(db_url, {"notify": sock.getsockname()[1]})
    run = RunningServices(settings, ("notify",), {"notify": sock}, {"notify": NotifySettings(registrations_per_hour=2)})
    try:
        await run.start("notify")
        async with httpx.AsyncClient(base_url=settings.notify_url, timeout=10) as client:
            statuses = [(await register(client, f"203.0.113.{i}")).status_code for i in range(3)]
        assert statuses == [201, 201, 429]  # one peer, one budget, whatever the header says
    finally:
        await run.stop("notify")
        sock.close()
