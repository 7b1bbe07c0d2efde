"""A stand-in for an operator's webhook endpoint: a real HTTP server on a loopback port that keeps
every request it answered 2xx to, and can be told to answer something else for a while (503, a
redirect), as a receiver that is down or moved would."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook

from tests.support.loopback import serve_on_loopback


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: str

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.body)

    def verified(self, secret: str) -> Any:
        """The body as Standard Webhooks' own verifier accepts it (it raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class WebhookReceiver:
    status: int = 200
    received: list[Received] = field(default_factory=list)
    refused: list[Received] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        got = Received({k.lower(): v for k, v in request.headers.items()}, await request.text())
        if 200 <= self.status < 300:
            self.received.append(got)
            return web.Response(status=self.status)
        self.refused.append(got)
        if 300 <= self.status < 400:
            raise web.HTTPFound(location=f"http://{self.host}/elsewhere")
        return web.Response(status=self.status)

    async def __aenter__(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner, self.port = await serve_on_loopback(app)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
