"""A stand-in for the browsers' push services, and for the browser at the end of each subscription.

A real HTTP endpoint on a loopback port that does what FCM, Mozilla's autopush or Apple's service do
with a push: it checks the `Authorization: vapid t=<jwt>, k=<key>` header (ES256 signature by `k`,
which must be the key the subscription was made with; `aud` the endpoint's origin; `exp` within
24 h; `sub` a mailto: or https: URL), requires a TTL and aes128gcm, and then does what the browser
does: decrypts the body with the subscriber's private key and auth secret. Like a real push service,
a message with the same Topic as one still queued replaces it; this one never delivers, so what it
holds is what the device would get when it next comes online.

It can be told what to answer to given attempts: a status (503, 404, 410...), a status with a
Retry-After, a redirect, or "hang" (the push is taken, the answer never comes).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
import httpx
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

HANG = "hang"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """A browser's side of one subscription: its keys never leave it, the push service has the endpoint."""

    token: str
    endpoint: str
    server_key: str  # the applicationServerKey it subscribed with: pushes must be signed by it
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    def subscription(self) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives the page."""
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }


@dataclass
class Push:
    """One request the service accepted for decryption, and what it answered."""

    token: str
    payload: dict[str, Any]
    headers: dict[str, str]
    answer: int | str
    at: float

    @property
    def topic(self) -> str | None:
        return self.headers.get("topic")


@dataclass
class Later:
    """An answer given only once the test sets `release`."""

    status: int
    release: asyncio.Event = field(default_factory=asyncio.Event)


class Refused(Exception):
    pass


class LocalPushService:
    def __init__(self) -> None:
        self.pushes: list[Push] = []
        self.refused: list[str] = []
        self._subscribers: dict[str, Subscriber] = {}
        self._answers: dict[str, list[Any]] = {}
        self._release = asyncio.Event()
        self._verified: dict[str, dict[str, Any]] = {}  # a JWT already verified: its claims
        self._runner: web.AppRunner | None = None
        self.host = ""

    @property
    def origin(self) -> str:
        return f"http://{self.host}"

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/push/{token}", self._receive)
        return app

    async def __aenter__(self) -> LocalPushService:
        self._runner = web.AppRunner(self.application(), access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # aiohttp exposes the bound port only here
        self.host = f"127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_: object) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def subscriber(self, server_key: str) -> Subscriber:
        token = secrets.token_urlsafe(16)
        sub = Subscriber(token=token, endpoint=f"{self.origin}/push/{token}", server_key=server_key)
        self._subscribers[token] = sub
        return sub

    def answer(self, sub: Subscriber, *answers: int | tuple[int | str, str] | str | Later) -> None:
        """What to answer to the next pushes for this subscriber, in order (then 201): a status,
        (status, Retry-After), ("redirect", url), Later(status) or HANG."""
        self._answers[sub.token] = list(answers)

    def received(self, sub: Subscriber) -> list[Push]:
        return [p for p in self.pushes if p.token == sub.token]

    def inbox(self, sub: Subscriber) -> list[dict[str, Any]]:
        """What the device gets: every push taken, a later one replacing a queued one with the same Topic."""
        queued: list[Push] = []
        for push in self.received(sub):
            if push.answer == 201 or push.answer == HANG:
                queued = [q for q in queued if push.topic is None or q.topic != push.topic] + [push]
        return [q.payload for q in queued]

    def _check_vapid(self, header: str, sub: Subscriber) -> None:
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            raise Refused(f"not a vapid authorization: {scheme!r}")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        if "t" not in parts or "k" not in parts:
            raise Refused("vapid authorization without t= and k=")
        if unb64url(parts["k"]) != unb64url(sub.server_key):
            raise Refused("signed with a key other than the subscription's applicationServerKey")
        claims = self._verified.get(params)
        if claims is None:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
            try:
                required = {"require": ["aud", "exp", "sub"]}
                claims = jwt.decode(parts["t"], key, algorithms=["ES256"], audience=self.origin, options=required)
            except jwt.PyJWTError as exc:
                raise Refused(f"bad vapid token: {exc}") from exc
            # A sender reuses its JWT for hours: its signature is checked once, its exp on every push.
            self._verified[params] = claims
        elif claims["exp"] <= time.time():
            raise Refused("bad vapid token: Signature has expired")
        if claims["exp"] > time.time() + 24 * 3600:
            raise Refused("vapid exp more than 24 h ahead")
        if not re.match(r"^(mailto:[^@]+@.+|https://.+)$", str(claims["sub"])):
            raise Refused(f"vapid sub is not a mailto: or https: URL: {claims['sub']!r}")

    def opened(self, sub: Subscriber, body: bytes) -> dict[str, Any]:
        """What the browser does with a push: decrypt it with the subscription's keys."""
        try:
            plain = http_ece.decrypt(body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm")
        except Exception as exc:
            raise Refused(f"cannot decrypt: {exc!r}") from exc
        payload: dict[str, Any] = json.loads(plain)
        return payload

    async def _receive(self, request: web.Request) -> web.StreamResponse:
        sub = self._subscribers.get(request.match_info["token"])
        if sub is None:
            return web.Response(status=404)
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            self._check_vapid(headers.get("authorization", ""), sub)
            if not headers.get("ttl", "").isdigit():
                raise Refused("no TTL header")
            if headers.get("content-encoding") != "aes128gcm":
                raise Refused(f"content-encoding {headers.get('content-encoding')!r}, not aes128gcm")
            payload = self.opened(sub, body)
        except Refused as exc:
            self.refused.append(str(exc))
            return web.Response(status=401, text=str(exc))
        script = self._answers.get(sub.token) or []
        answer = script.pop(0) if script else 201
        code = answer.status if isinstance(answer, Later) else answer[0] if isinstance(answer, tuple) else answer
        self.pushes.append(Push(sub.token, payload, headers, code, time.time()))
        if answer == HANG:
            await self._release.wait()
            return web.Response(status=201)
        if isinstance(answer, Later):
            await answer.release.wait()
            return web.Response(status=answer.status)
        if isinstance(answer, tuple) and answer[0] == "redirect":
            return web.Response(status=307, headers={"Location": answer[1]})
        if isinstance(answer, tuple):
            return web.Response(status=answer[0], headers={"Retry-After": answer[1]})
        created = {"Location": f"/message/{secrets.token_hex(8)}"} if answer == 201 else {}
        return web.Response(status=answer, headers=created)


async def subscribe(
    notify: httpx.AsyncClient, push: LocalPushService, device_id: str, auth: dict[str, str]
) -> Subscriber:
    """What a page does: subscribe with notify's VAPID public key, then hand the subscription to notify."""
    r = await notify.get("/v1/vapid-public-key")
    assert r.status_code == 200, r.text
    sub = push.subscriber(r.json()["public_key"])
    r = await notify.put(f"/v1/devices/{device_id}/push-subscription", json=sub.subscription(), headers=auth)
    assert r.status_code == 200, r.text
    return sub
