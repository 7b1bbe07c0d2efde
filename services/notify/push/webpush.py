"""Web Push (RFC 8030, 8291, 8292): the channel to browsers, through pywebpush on one shared aiohttp
session, every request to an allowed push service at a public address."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import ClientHandlerType, ClientMiddlewareType, ClientRequest, ClientResponse
from aiohttp.abc import AbstractResolver
from pywebpush import WebPushException, webpush_async

from services.notify.push.channel import Answer, AnswerLabel, Provider, Push, Target
from services.notify.push.push_urls import PushServices, PushUrlRefused
from services.notify.push.vapid import VapidKeys
from shared.egress import PrivateAddress, PublicOnlyResolver

# JSON bytes before encryption: push services take 4096 bytes of encrypted body, and aes128gcm
# adds a 86-byte header, a 16-byte tag and a padding delimiter.
MAX_PAYLOAD = 3800
RETRYABLE = frozenset({408, 429})


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
        connector=aiohttp.TCPConnector(resolver=PublicOnlyResolver(policy.listed, resolver)),
        trust_env=False,
    )


def payload_of(doc: dict[str, Any]) -> bytes:
    """The JSON the device's service worker receives, its body shortened if needed to fit a push.
    The worker shows it with `tag` as the notification tag, so a copy that arrives twice replaces
    the first on the screen instead of showing twice."""
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    body = doc.get("body") or ""
    while len(data) > MAX_PAYLOAD and body:
        body = body[: max(0, len(body) - (len(data) - MAX_PAYLOAD) - 1)]
        data = json.dumps({**doc, "body": body + "…"}, ensure_ascii=False, separators=(",", ":")).encode()
    return data


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


class WebPushChannel:
    provider: Provider = "webpush"

    def __init__(self, services: PushServices, vapid: VapidKeys, session: aiohttp.ClientSession, timeout_s: float):
        self._services = services
        self._vapid = vapid
        self._session = session
        self._timeout_s = timeout_s

    def origin(self, target: Target) -> str:
        parts = urlsplit(target.address)
        return f"{parts.scheme}://{parts.netloc}"

    def refusal(self, target: Target) -> str | None:
        return self._services.refusal(target.address)

    async def send(self, push: Push) -> Answer:
        doc = {
            "id": push.message_id,
            "tag": push.topic,
            "purpose": push.purpose,
            "lang": push.locale,
            "title": push.title,
            "body": push.body,
            "store_id": push.store_id,
            "sku": push.sku,
            "order_id": push.order_id,
        }
        target = push.target
        try:
            response = await webpush_async(
                subscription_info={"endpoint": target.address, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
                data=payload_of({k: v for k, v in doc.items() if v is not None}),
                vapid_private_key=self._vapid.signer,
                vapid_claims=self._vapid.claims(),
                content_encoding="aes128gcm",
                timeout=self._timeout_s,
                ttl=ttl_s(push.expires_at, datetime.now(UTC)),
                headers={"Urgency": push.urgency, "Topic": push.topic},
                aiohttp_session=self._session,
            )
        except WebPushException as exc:
            if exc.status_code is None:  # refused by pywebpush before any request: the subscription is unusable
                return Answer("rejected", error=exc.message[:300])
            return Answer(label_of(exc.status_code), exc.status_code, exc.retry_after, exc.message[:300])
        except (PushUrlRefused, PrivateAddress) as exc:  # a hop to a host not allowed, or not public
            return Answer("refused", error=str(exc)[:300])
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Answer("no_answer", error=repr(exc)[:300])
        return Answer(label_of(response.status), response.status)

    async def close(self) -> None:
        await self._session.close()
