"""Delivering decided messages through their recipient's push channel (Web Push, APNs or FCM), from
every replica, each message at most once.

A message goes `pending` -> `sending` -> `sent`, back to `pending` (a retry, later) or `failed`:

1. claim, in one committed transaction: due messages are taken FOR UPDATE SKIP LOCKED (replicas
   share the work), marked `sending` under a lease, and an attempt row is opened for each;
2. send, outside any transaction, through the channel of the recipient's target (services/notify/push);
3. settle, in a second transaction: the answer goes on the attempt row and on the message.

A crash between 1 and 3 leaves the message `sending`. Whether the push service got it is then
unknown, and a push service deduplicates nothing; so it is not resent blindly when its lease runs out:
it is resent once, with the same collapse id and tag, so that a copy still queued at the push service
is replaced and a copy already shown on the device is replaced on screen. A second crash on the same
message, or a message whose moment has passed, ends as `failed` / `uncertain_after_crash`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from prometheus_client import Counter

from services.notify.outbox import repository as repo
from services.notify.outbox.delivery import outcome_of, parse_retry_after
from services.notify.outbox.kinds import DeliveryKinds, Due
from services.notify.outbox.messages import Addressee
from services.notify.push.channel import Answer, Channel, Push, Target
from services.notify.push.channels import Channels
from services.notify.settings import NotifySettings
from shared.db import Database
from shared.wake_loop import WakeLoop, until_due

log = logging.getLogger("accueil.notify.sender")

BATCH = 20

PUSH_ATTEMPTS = Counter(
    "accueil_push_attempts_total", "Requests made to push services, by channel and outcome", ["provider", "outcome"]
)


def target_of(row: asyncpg.Record) -> Target | None:
    """The recipient's push target as the claim read it, if they have one."""
    if row["provider"] is None:
        return None
    return Target(row["provider"], row["address"], row["p256dh"], row["auth"], row["environment"])


@dataclass(frozen=True)
class Claimed:
    message: asyncpg.Record
    channel: Channel
    target: Target
    attempt_id: int
    attempt: int


class Sender:
    """One per replica: woken (`wake`) through notify's listener when a message falls due, and by its
    own timer for retries and leases; a slow poll is the safety net."""

    def __init__(
        self,
        db: Database,
        config: NotifySettings,
        channels: Channels,
        poll_s: float,
        kinds: DeliveryKinds,
    ) -> None:
        self._db = db
        self._config = config
        self._channels = channels
        self._kinds = kinds
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
        now = datetime.now(UTC)
        async with self._db.transaction() as conn:
            rows = await repo.due_messages(conn, BATCH)
            gone = await self._kinds.withdrawn(
                conn, [Due(r["id"], r["purpose"], r["device_id"], r["request_id"]) for r in rows]
            )
            ready: list[tuple[asyncpg.Record, Channel, Target]] = []
            failed: dict[int, str] = {}
            withdrawn: list[int] = []
            for row in rows:
                target = target_of(row)
                channel = self._channels.get(target.provider) if target else None
                if row["id"] in gone:
                    withdrawn.append(row["id"])
                elif target is None:
                    failed[row["id"]] = "no_subscription"
                elif row["expires_at"] <= now:
                    failed[row["id"]] = "expired"
                elif channel is None:  # a token kept from when the operator had configured its provider
                    failed[row["id"]] = "channel_not_configured"
                elif channel.refusal(target) is not None:
                    failed[row["id"]] = "endpoint_not_allowed"
                else:
                    ready.append((row, channel, target))
            if failed:
                await repo.fail_messages(conn, list(failed), list(failed.values()))
            if withdrawn:
                await repo.suppress_messages(conn, withdrawn, ["no_consent"] * len(withdrawn))
            if not ready:
                return []
            opened = await repo.start_sending(
                conn,
                [row["id"] for row, _, _ in ready],
                [channel.origin(target) for _, channel, target in ready],
                self._config.lease_s,
            )
        return [
            Claimed(row, channel, target, opened[row["id"]]["id"], opened[row["id"]]["attempt"])
            for row, channel, target in ready
        ]

    async def _send(self, claimed: Claimed) -> None:
        m = claimed.message
        push = Push(
            message_id=m["id"],
            purpose=m["purpose"],
            target=claimed.target,
            title=m["title"],
            body=m["body"],
            locale=m["locale"],
            topic=m["topic"],
            expires_at=m["expires_at"],
            urgency=self._kinds.urgency(m["purpose"]),
            store_id=m["store_id"],
            sku=m["sku"],
            order_id=m["order_id"],
        )
        await self._settle(claimed, await claimed.channel.send(push))

    async def _settle(self, claimed: Claimed, answer: Answer) -> None:
        m = claimed.message
        now = datetime.now(UTC)
        outcome = outcome_of(answer.label, answer.retry_after, claimed.attempt, now, m["expires_at"])
        PUSH_ATTEMPTS.labels(claimed.target.provider, answer.label).inc()
        async with self._db.transaction() as conn:
            await repo.finish_attempt(
                conn,
                claimed.attempt_id,
                answer.label,
                answer.code,
                parse_retry_after(answer.retry_after, now),
                answer.error,
                now,
            )
            settled = await repo.settle_message(
                conn, m["id"], claimed.attempt, outcome.status, outcome.reason, outcome.next_attempt_at
            )
            if outcome.drop_target:
                to = Addressee(m["recipient_kind"], m["recipient_id"])
                await repo.delete_dead_target(conn, to, claimed.target.address, answer.gone_since)
        if not settled:
            log.warning("message %s: lease lost before its answer (%s) was recorded", m["id"], answer.label)
