"""Web Push (RFC 8030, 8291, 8292): the channel to browsers, on one shared aiohttp session (its
connections to each push service kept open between messages), every request to an allowed push service
at a public address.

Per message, only what cannot be shared: the payload encrypted for its subscriber (pywebpush's
`WebPusher.encode`: aes128gcm with a fresh ECDH key). The VAPID JWT is one per push service, reused for
hours (vapid_tokens.py), so the request is made here rather than by pywebpush's `webpush_async`, which
signs a new one for every message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import ClientHandlerType, ClientMiddlewareType, ClientRequest, ClientResponse
from aiohttp.abc import AbstractResolver
from pywebpush import WebPusher, WebPushException

from services.notify.push.channel import Answer, AnswerLabel, Provider, Push, Target
from services.notify.push.payload import fitted
from services.notify.push.push_urls import PushServices, PushUrlRefused
from services.notify.push.vapid import VapidKeys
from services.notify.push.vapid_tokens import VapidToken, VapidTokens
from shared.egress import PrivateAddress, PublicOnlyResolver

# JSON bytes before encryption: push services take 4096 bytes of encrypted body, and aes128gcm
# adds a 86-byte header, a 16-byte tag and a padding delimiter.
MAX_PAYLOAD = 3800
RETRYABLE = frozenset({408, 429})
CONNECTIONS = 256
"""Connections to the push services at once, at most: a request in flight holds one (HTTP/1.1). aiohttp's
default, 100, capped a push service 50 ms away at 2,000 messages/s; the sender keeps up to 512 in flight."""


def endpoint_guard(policy: PushServices) -> ClientMiddlewareType:
    """aiohttp client middleware: every request, redirect hops included, goes to an allowed push
    service or nowhere."""

    async def guard(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        policy.check(str(request.url))
        return await handler(request)

    return guard


def push_session(
    policy: PushServices, timeout_s: float, resolver: AbstractResolver | None = None
) -> aiohttp.ClientSession:
    """Every push goes through here: to an allowed push service by name (the guard, each hop), and to a
    public address only (the resolver, each connection), unless the operator listed the host."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout_s),
        middlewares=(endpoint_guard(policy),),
        # Each request in flight holds a connection of its own (HTTP/1.1), kept open for the next push.
        connector=aiohttp.TCPConnector(limit=CONNECTIONS, resolver=PublicOnlyResolver(policy.listed, resolver)),
        trust_env=False,
    )


def payload_of(doc: dict[str, Any]) -> bytes:
    """The JSON the device's service worker receives, its texts shortened if needed to fit a push (the
    why first, then the body, then the title: payload.fitted). The worker shows it with `tag` as the
    notification tag, so a copy that arrives twice replaces the first on the screen instead of showing
    twice."""

    def render(title: str, body: str, why: str) -> dict[str, Any]:
        texts = {"title": title, "body": body, "why": why}
        shown = {k: texts.get(k, v) for k, v in doc.items()}
        return shown if why else {k: v for k, v in shown.items() if k != "why"}

    return fitted(render, doc.get("title") or "", doc.get("body") or "", doc.get("why") or "", MAX_PAYLOAD)


def ttl_s(expires_at: datetime, now: datetime) -> int:
    return max(1, int((expires_at - now).total_seconds()))


def label_of(code: int | None) -> AnswerLabel:
    """What one Web Push request came to, by the push service's status."""
    if code is None:
        return "no_answer"
    if 200 <= code < 300:
        return "accepted"
    if code in (404, 410):
        return "gone"
    if code in RETRYABLE or code >= 500:
        return "unavailable"
    return "rejected"


def document(push: Push) -> dict[str, Any]:
    """The message as the device's service worker gets it (payload_of makes it fit)."""
    doc = {
        "id": push.message_id,
        "tag": push.topic,
        "purpose": push.purpose,
        "lang": push.locale,
        "title": push.title,
        "body": push.body,
        "why": push.why,
        "store_id": push.store_id,
        "sku": push.sku,
        "order_id": push.order_id,
    }
    return {k: v for k, v in doc.items() if v is not None}


def encrypted(target: Target, data: bytes) -> bytes:
    """The request body: `data` encrypted for the subscriber (RFC 8291, aes128gcm, a fresh ECDH key)."""
    subscription = {"endpoint": target.address, "keys": {"p256dh": target.p256dh, "auth": target.auth}}
    body: bytes = WebPusher(subscription).encode(data, "aes128gcm")["body"]
    return body


class WebPushChannel:
    provider: Provider = "webpush"

    def __init__(
        self,
        services: PushServices,
        vapid: VapidKeys,
        session: aiohttp.ClientSession,
        timeout_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock`: the wall clock (epoch seconds) the VAPID JWTs are dated by."""
        self._services = services
        self._tokens = VapidTokens(vapid, clock)
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    def origin(self, target: Target) -> str:
        parts = urlsplit(target.address)
        return f"{parts.scheme}://{parts.netloc}"

    def refusal(self, target: Target) -> str | None:
        return self._services.refusal(target.address)

    async def send(self, push: Push) -> Answer:
        target = push.target
        try:
            body = encrypted(target, payload_of(document(push)))
        except (WebPushException, ValueError) as exc:  # keys checked when subscribing, yet unusable
            return Answer("rejected", error=str(exc)[:300])
        headers = {
            "TTL": str(ttl_s(push.expires_at, datetime.now(UTC))),
            "Content-Encoding": "aes128gcm",
            "Urgency": push.urgency,
            "Topic": push.topic,
        }
        origin = self.origin(target)
        token = self._tokens.current(origin)
        answer = await self._post(target.address, body, headers, token)
        if answer.code in (401, 403) and (renewed := self._tokens.after_refusal(origin, token)) is not None:
            # The push service no longer takes a JWT it took for hours (its clock, or ours, jumped):
            # the message was refused, not delivered, so it goes once more with a new one.
            answer = await self._post(target.address, body, headers, renewed)
        return answer

    async def _post(self, endpoint: str, body: bytes, headers: dict[str, str], token: VapidToken) -> Answer:
        try:
            async with self._session.post(
                endpoint, data=body, headers={**headers, "Authorization": token.authorization}, timeout=self._timeout
            ) as response:
                said = await response.read()  # read to the end, so the connection serves the next push
        except (PushUrlRefused, PrivateAddress) as exc:  # a hop to a host not allowed, or not public
            return Answer("refused", error=str(exc)[:300])
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Answer("no_answer", error=repr(exc)[:300])
        label = label_of(response.status)
        if label == "accepted":
            return Answer(label, response.status)
        error = f"{response.status} {response.reason}: {said.decode(errors='replace')}"[:300]
        return Answer(label, response.status, response.headers.get("Retry-After"), error)

    async def close(self) -> None:
        await self._session.close()
