"""Delivering queued webhook deliveries, from every replica, in order per (webhook, device).

1. claim, in one committed transaction: due deliveries FOR UPDATE SKIP LOCKED (replicas share the
   work), marked `sending` under a lease;
2. send, outside any transaction: one signed POST (Standard Webhooks), redirects not followed (a 3xx
   is a failure), every connection's resolved addresses checked;
3. settle, in a second transaction: the attempt is logged and the delivery is delivered, retried
   later, or given up 24 h after its event.

A sender that dies mid-send leaves its deliveries `sending`; when the lease runs out they are sent
again with the same webhook-id, which is what receivers deduplicate on.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import aiohttp
import asyncpg
from standardwebhooks.webhooks import Webhook

from services.notify.settings import NotifySettings
from services.notify.webhooks import repository as repo
from services.notify.webhooks.retry import outcome_of
from services.notify.webhooks.secrets import secret_of
from services.notify.webhooks.urls import WebhookHosts
from shared.db import Database
from shared.egress import PrivateAddress, PublicOnlyResolver
from shared.sealed import Sealer, Unsealable
from shared.wake_loop import WakeLoop, until_due

log = logging.getLogger("accueil.notify.webhooks")

BATCH = 20
POLL_S = 1.0


def webhook_session(hosts: WebhookHosts, timeout_s: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        # Every connection's host resolved to public addresses only (DNS rebinding included), unless listed.
        connector=aiohttp.TCPConnector(resolver=PublicOnlyResolver(hosts.listed)),
        timeout=aiohttp.ClientTimeout(total=timeout_s),
        trust_env=False,
    )


def signed_headers(secret: str, event_id: int, body: str, now: datetime) -> dict[str, str]:
    msg_id = str(event_id)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
    }


class WebhookSender:
    """One per replica: woken through notify's listener when deliveries are queued, and by its own
    timer for retries and leases; a poll of about a second is the safety net."""

    def __init__(self, db: Database, config: NotifySettings, hosts: WebhookHosts, sealer: Sealer) -> None:
        self._db = db
        self._config = config
        self._hosts = hosts
        self._sealer = sealer
        self._session: aiohttp.ClientSession | None = None
        self._loop = WakeLoop(self._round, name="notify-webhooks", log=log, what="webhook sender")

    @property
    def lease_s(self) -> float:
        return 2 * self._config.webhook_timeout_s + 2

    def start(self) -> None:
        self._session = webhook_session(self._hosts, self._config.webhook_timeout_s)
        self._loop.start()

    async def stop(self) -> None:
        if not await self._loop.stop(self._config.webhook_timeout_s + 10):
            log.warning("webhook sends still in flight at stop: their leases will expire")
        if self._session is not None:
            await self._session.close()

    def wake(self, *_: object) -> None:
        self._loop.wake()

    async def _round(self) -> float | None:
        return None if await self.run_once() else await self._idle_for()

    async def _idle_for(self) -> float:
        async with self._db.transaction(readonly=True) as conn:
            due = await repo.next_due(conn)
        return until_due(due, datetime.now(UTC), POLL_S)

    async def run_once(self) -> int:
        if self._loop.stopping:
            return 0
        async with self._db.transaction() as conn:
            await repo.recover_expired_leases(conn)
            claimed = await repo.claim_due(conn, BATCH, self.lease_s)
        await asyncio.gather(*(self._send(d) for d in claimed))
        return len(claimed)

    async def _send(self, delivery: asyncpg.Record) -> None:
        assert self._session is not None
        body = delivery["payload"]
        code: int | None = None
        error: str | None = None
        refusal = self._hosts.parse(delivery["url"])
        try:
            secret = secret_of(self._sealer, delivery)
        except Unsealable:
            secret = None
        if isinstance(refusal, str):  # the allowed hosts changed since it was registered
            error = refusal
        elif secret is None:  # altered, copied from another webhook, or sealed under another token key
            error = "its stored secret cannot be opened: register the webhook again"
        else:
            headers = signed_headers(secret, delivery["event_id"], body, datetime.now(UTC))
            try:
                async with self._session.post(
                    delivery["url"], data=body.encode(), headers=headers, allow_redirects=False
                ) as response:
                    code = response.status
            except (aiohttp.ClientError, TimeoutError, OSError, PrivateAddress) as exc:
                error = repr(exc)[:300]
        now = datetime.now(UTC)
        ok = code is not None and 200 <= code < 300
        outcome = outcome_of(ok, delivery["attempts"], now, delivery["event_ts"], self._config.webhook_retry_s)
        async with self._db.transaction() as conn:
            await repo.settle(conn, delivery, outcome.status, outcome.next_attempt_at, code, error)
        if not ok:
            log.info("webhook %s event %s: %s", delivery["webhook_id"], delivery["event_id"], code or error)
