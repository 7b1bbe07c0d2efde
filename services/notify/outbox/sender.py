"""Delivering decided messages as Web Push, from every replica, each message at most once.

A message goes `pending` -> `sending` -> `sent`, back to `pending` (a retry, later) or `failed`:

1. claim, in one committed transaction: due messages are taken FOR UPDATE SKIP LOCKED (replicas
   share the work), marked `sending` under a lease, and an attempt row is opened for each;
2. send, outside any transaction: pywebpush's async API on the one shared aiohttp session;
3. settle, in a second transaction: the answer goes on the attempt row and on the message.

A crash between 1 and 3 leaves the message `sending`. Whether the push service got it is then
unknown, and a push service deduplicates nothing; so it is not resent blindly when its lease runs out:
it is resent once, with the same Topic and tag, so that a copy still queued at the push service is
replaced and a copy already shown on the device is replaced on screen. A second crash on the same
message, or a message whose moment has passed, ends as `failed` / `uncertain_after_crash`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
import asyncpg
from aiohttp import ClientHandlerType, ClientMiddlewareType, ClientRequest, ClientResponse
from aiohttp.abc import AbstractResolver
from prometheus_client import Counter
from pywebpush import WebPushException, webpush_async

from services.notify.outbox import repository as repo
from services.notify.outbox.delivery import attempt_label, outcome_of, parse_retry_after, payload_of, ttl_s
from services.notify.outbox.kinds import DeliveryKinds, Due
from services.notify.outbox.messages import Addressee
from services.notify.outbox.push_urls import PushServices, PushUrlRefused
from services.notify.outbox.vapid import VapidKeys
from services.notify.settings import NotifySettings
from shared.db import Database
from shared.egress import PrivateAddress, PublicOnlyResolver
from shared.wake_loop import WakeLoop, until_due

log = logging.getLogger("accueil.notify.sender")

BATCH = 20

PUSH_ATTEMPTS = Counter("accueil_push_attempts_total", "Requests made to push services, by outcome", ["outcome"])


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


def origin_of(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Claimed:
    message: asyncpg.Record
    attempt_id: int
    attempt: int


class Sender:
    """One per replica: woken (`wake`) through notify's listener when a message falls due, and by its
    own timer for retries and leases; a slow poll is the safety net."""

    def __init__(
        self,
        db: Database,
        config: NotifySettings,
        endpoints: PushServices,
        vapid: VapidKeys,
        push_session: aiohttp.ClientSession,
        poll_s: float,
        kinds: DeliveryKinds,
    ) -> None:
        self._db = db
        self._config = config
        self._endpoints = endpoints
        self._kinds = kinds
        self._vapid = vapid
        self._push_session = push_session
        self._poll_s = poll_s
        self._loop = WakeLoop(self._round, name="notify-send", log=log, what="sender")

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        """Claim nothing more and let the sends in hand finish (each is bounded by the push timeout)."""
        if not await self._loop.stop(self._config.push_timeout_s + 10):
            log.warning("sends still in flight at stop: their leases will expire")

    def wake(self, *_: object) -> None:
        """A message fell due (NOTIFY), or the listener reconnected and something may have meanwhile."""
        self._loop.wake()

    async def _round(self) -> float | None:
        return None if await self.run_once() else await self._idle_for()

    async def _idle_for(self) -> float:
        async with self._db.transaction() as conn:
            due = await repo.next_due(conn)
        return until_due(due, datetime.now(UTC), self._poll_s)

    async def run_once(self) -> int:
        """Recover dead senders' messages, then claim and send one batch; return how many were claimed."""
        async with self._db.transaction() as conn:
            recovered = await repo.recover_expired_leases(conn)
        for row in recovered:
            log.warning("message %s was cut short mid-send: now %s", row["id"], row["status"])
        claimed = await self._claim()
        await asyncio.gather(*(self._send(c) for c in claimed))
        return len(claimed)

    async def _claim(self) -> list[Claimed]:
        if self._loop.stopping:
            return []
        policy = self._endpoints
        now = datetime.now(UTC)
        async with self._db.transaction() as conn:
            rows = await repo.due_messages(conn, BATCH)
            gone = await self._kinds.withdrawn(
                conn, [Due(r["id"], r["purpose"], r["device_id"], r["request_id"]) for r in rows]
            )
            ready, failed, withdrawn = [], {}, []
            for row in rows:
                if row["id"] in gone:
                    withdrawn.append(row["id"])
                elif row["endpoint"] is None:
                    failed[row["id"]] = "no_subscription"
                elif row["expires_at"] <= now:
                    failed[row["id"]] = "expired"
                elif policy.refusal(row["endpoint"]) is not None:
                    failed[row["id"]] = "endpoint_not_allowed"
                else:
                    ready.append(row)
            if failed:
                await repo.fail_messages(conn, list(failed), list(failed.values()))
            if withdrawn:
                await repo.suppress_messages(conn, withdrawn, ["no_consent"] * len(withdrawn))
            if not ready:
                return []
            opened = await repo.start_sending(
                conn, [r["id"] for r in ready], [origin_of(r["endpoint"]) for r in ready], self._config.lease_s
            )
        return [Claimed(r, opened[r["id"]]["id"], opened[r["id"]]["attempt"]) for r in ready]

    async def _send(self, claimed: Claimed) -> None:
        m = claimed.message
        vapid = self._vapid
        doc = {
            "id": m["id"],
            "tag": m["topic"],
            "purpose": m["purpose"],
            "lang": m["locale"],
            "title": m["title"],
            "body": m["body"],
            "store_id": m["store_id"],
            "sku": m["sku"],
            "order_id": m["order_id"],
        }
        code: int | None = None
        retry_after: str | None = None
        error: str | None = None
        label: str | None = None  # None: read from the answer's status
        try:
            response = await webpush_async(
                subscription_info={"endpoint": m["endpoint"], "keys": {"p256dh": m["p256dh"], "auth": m["auth"]}},
                data=payload_of({k: v for k, v in doc.items() if v is not None}),
                vapid_private_key=vapid.signer,
                vapid_claims=vapid.claims(),
                content_encoding="aes128gcm",
                timeout=self._config.push_timeout_s,
                ttl=ttl_s(m["expires_at"], datetime.now(UTC)),
                headers={"Urgency": self._kinds.urgency(m["purpose"]), "Topic": m["topic"]},
                aiohttp_session=self._push_session,
            )
            code = response.status
        except WebPushException as exc:
            code, retry_after, error = exc.status_code, exc.retry_after, exc.message[:300]
            if code is None:  # refused by pywebpush before any request: the subscription is unusable
                label = "rejected"
        except (PushUrlRefused, PrivateAddress) as exc:  # a hop to a host not allowed, or not public
            label, error = "refused", str(exc)[:300]
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = repr(exc)[:300]
        await self._settle(claimed, label or attempt_label(code), code, retry_after, error)

    async def _settle(
        self, claimed: Claimed, label: str, code: int | None, retry_after: str | None, error: str | None
    ) -> None:
        m = claimed.message
        now = datetime.now(UTC)
        outcome = outcome_of(label, retry_after, claimed.attempt, now, m["expires_at"])
        PUSH_ATTEMPTS.labels(label).inc()
        async with self._db.transaction() as conn:
            await repo.finish_attempt(
                conn, claimed.attempt_id, label, code, parse_retry_after(retry_after, now), error, now
            )
            settled = await repo.settle_message(
                conn, m["id"], claimed.attempt, outcome.status, outcome.reason, outcome.next_attempt_at
            )
            if outcome.drop_subscription:
                await repo.delete_subscription(conn, Addressee(m["recipient_kind"], m["recipient_id"]), m["endpoint"])
        if not settled:
            log.warning("message %s: lease lost before its answer (%s) was recorded", m["id"], label)
