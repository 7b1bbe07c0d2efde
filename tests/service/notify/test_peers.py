"""Calls to another service: whatever goes wrong is the caller's input (a 4xx) or the peer failing
(PeerError, a 502 to the client), never an exception no one handles (a 500). And what a PeerError says,
which ends up in logs, names no device."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from shared import peers
from shared.context import Context
from shared.db import Database
from shared.errors import ApiError
from tests.conftest import free_socket, settings_for
from tests.service.notify.conftest import notify_context

DEVICE = "dev_Yb4Fk0Fh8GQgYOJc0iDY7w"


async def not_json(_: web.Request) -> web.Response:
    return web.Response(text="<html>a proxy's error page</html>", content_type="text/html")


async def failing(_: web.Request) -> web.Response:
    return web.Response(status=500, text="no")


@pytest.fixture
async def geo_port() -> AsyncIterator[int]:
    """A server where geo is expected: one that answers 200 with no JSON, or 500."""
    app = web.Application()
    app.router.add_get("/v1/stores/{store_id}", not_json)
    app.router.add_get("/v1/devices/{device_id}/context", failing)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = free_socket()
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield sock.getsockname()[1]
    finally:
        await runner.cleanup()


@pytest.fixture
async def ctx(db_url: str, notify_db: Database, geo_port: int) -> AsyncIterator[Context]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0)) as http:
        yield notify_context(settings_for(db_url, {"geo": geo_port}), notify_db, http)


async def test_a_path_no_url_can_hold_is_the_callers_4xx(ctx: Context) -> None:
    with pytest.raises(ApiError) as refused:
        await peers.get_json(ctx, "geo", "/v1/stores/rivoli\n")
    assert 400 <= refused.value.status < 500


async def test_an_answer_that_is_no_json_is_the_peer_failing(ctx: Context) -> None:
    with pytest.raises(peers.PeerError):
        await peers.get_json(ctx, "geo", "/v1/stores/rivoli")


async def test_a_peers_failure_is_told_without_the_path_and_its_ids(ctx: Context) -> None:
    with pytest.raises(peers.PeerError) as failed:
        await peers.get_json(ctx, "geo", f"/v1/devices/{DEVICE}/context")
    assert "500" in str(failed.value) and DEVICE not in str(failed.value)
