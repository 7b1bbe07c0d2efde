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

For throughput, nothing is paid per message that can be paid per batch: a claim takes up to BATCH
messages, the next one is claimed while the last batch's sends are still out (at most WINDOW in
flight), and the answers that arrive together are settled together, in one transaction (group commit).
Each message is still settled only under its own lease.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from prometheus_client import Counter

from services.notify.outbox import repository as repo
from services.notify.outbox.delivery import outcome_of, parse_retry_after
from services.notify.outbox.in_flight import InFlight
from services.notify.outbox.kinds import DeliveryKinds, Due
from services.notify.outbox.messages import Addressee
from services.notify.policy.why import in_locale
from services.notify.push.channel import Answer, Channel, Push, Target
from services.notify.push.channels import Channels
from services.notify.settings import NotifySettings
from shared.db import UNAVAILABLE, Database
from shared.group_commit import GroupCommit
from shared.wake_loop import WakeLoop, until_due

log = logging.getLogger("accueil.notify.sender")

BATCH = 256
"""Messages claimed in one transaction: a claim costs a few milliseconds whatever its size, then tens of
microseconds per message."""
WINDOW = 2 * BATCH
"""Sends in flight at most: a batch is claimed while the one before it is still out."""
SETTLE_BATCH = BATCH
"""Answers settled in one transaction, at most."""

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


@dataclass(frozen=True)
class Settling:
    """One answer on its way to the database."""

    answered: repo.Answered
    dead: repo.DeadTarget | None
    """The target to forget, when the push service said it is gone."""


def settling(claimed: Claimed, answer: Answer, now: datetime) -> Settling:
    """What the answer means for the message (delivery.py), as it will be recorded."""
    m = claimed.message
    outcome = outcome_of(answer.label, answer.retry_after, claimed.attempt, now, m["expires_at"])
    answered = repo.Answered(
        attempt_id=claimed.attempt_id,
        message_id=m["id"],
        attempt=claimed.attempt,
        outcome=answer.label,
        status_code=answer.code,
        retry_after_s=parse_retry_after(answer.retry_after, now),
        error=answer.error,
        answered_at=now,
        status=outcome.status,
        reason=outcome.reason,
        next_attempt_at=outcome.next_attempt_at,
    )
    to = Addressee(m["recipient_kind"], m["recipient_id"])
    dead = repo.DeadTarget(to, claimed.target.address, answer.gone_since) if outcome.drop_target else None
    return Settling(answered, dead)


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
        self._in_flight = InFlight(WINDOW, log)
        self._settling = GroupCommit(self._settle, key=lambda s: s.answered.message_id, max_size=SETTLE_BATCH)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        """Claim nothing more and let the sends in hand finish and be settled (each is bounded by the
        push timeout)."""
        deadline = time.monotonic() + self._config.push_timeout_s + 10
        stopped = await self._loop.stop(deadline - time.monotonic())
        if not (await self._in_flight.finish(max(0.0, deadline - time.monotonic())) and stopped):
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
        """Once the window has room for a batch: recover dead senders' messages and take a batch, in one
        transaction; start sending those that may be sent, fail or withdraw the others. Return how many
        were taken. The sends go on after this returns (`stop` waits for them)."""
        await self._in_flight.room_for(BATCH)
        taken, claimed = await self._claim()
        for c in claimed:
            self._in_flight.start(self._send(c))
        return taken

    async def _claim(self) -> tuple[int, list[Claimed]]:
        """How many due messages were taken, and those of them to send now."""
        if self._loop.stopping:
            return 0, []
        now = datetime.now(UTC)
        async with self._db.transaction() as conn:
            recovered = await repo.recover_expired_leases(conn)  # due again at once: this batch may take them
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
            opened = (
                await repo.start_sending(
                    conn,
                    [row["id"] for row, _, _ in ready],
                    [channel.origin(target) for _, channel, target in ready],
                    self._config.lease_s,
                )
                if ready
                else {}
            )
        for row in recovered:
            log.warning("message %s was cut short mid-send: now %s", row["id"], row["status"])
        return len(rows), [
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
            why=in_locale(m["why"], m["locale"]),
        )
        answer = await claimed.channel.send(push)
        PUSH_ATTEMPTS.labels(claimed.target.provider, answer.label).inc()
        try:
            settled = await self._settling.submit(settling(claimed, answer, datetime.now(UTC)))
        except UNAVAILABLE as exc:
            log.info("message %s: its answer (%s) waits for its lease to run out: %s", m["id"], answer.label, exc)
            return
        if not settled:
            log.warning("message %s: lease lost before its answer (%s) was recorded", m["id"], answer.label)

    async def _settle(self, group: list[Settling]) -> list[bool | Exception]:
        """The answers that arrived together, in one transaction: whether each message was settled
        (False: its lease was lost)."""
        try:
            settled = await self._record(group)
        except asyncpg.DeadlockDetectedError:
            # A lease ran out mid-send and recover_expired_leases locked that message while this group
            # waited for it (and it for one of ours): PostgreSQL rolled the group back. Written again,
            # it finds that message taken by the recovery and leaves it to it.
            settled = await self._record(group)
        if any(s.answered.status == "pending" for s in group):
            self._loop.wake()  # an idle loop learns when the retry falls due
        return [s.answered.message_id in settled for s in group]

    async def _record(self, group: list[Settling]) -> set[int]:
        dead = [s.dead for s in group if s.dead is not None]
        async with self._db.transaction() as conn:
            settled = await repo.record_answers(conn, [s.answered for s in group])
            if dead:
                await repo.delete_dead_targets(conn, dead)
        return settled
