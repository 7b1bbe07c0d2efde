"""Runs the journey steps that are due: each replica's runner takes a batch of due enrollments (a step
just reached, a wait over, a timeout) with `FOR UPDATE SKIP LOCKED`, so replicas share them and none
runs one twice; a crash rolls its batch back and another runner takes it.

One round: the due enrollments are read; geo is asked, with no transaction open, where the devices
are whose next steps branch on it; then, in one transaction, each is locked again (still due, its
device free) and walked (flow.py) in a savepoint of its own, its messages decided and queued as it
goes; the steps every walk reached and the places they took it to are written once for the round.
What the round's walks and messages read of the replicas (stock, products, stores' time zones) is read
once for it too: a statement per enrollment for each cost more than the walk itself.

Why not a durable-workflow or job library (DBOS, procrastinate and pgqueuer were weighed): a step's
effect is a row in notify's own tables (a message in the outbox, the enrollment's move), and it must
commit in the same transaction as the claim, on notify's asyncpg connection. DBOS runs workflows on
its own system database and connections (psycopg, SQLAlchemy) and checkpoints a step apart from its
effect; procrastinate speaks psycopg, not asyncpg; pgqueuer acknowledges a job on its own connection
and deletes it. Each would still need the enrollment table beside it, plus a second record of the
same state. An enrollment's `wake_at`, an index on it, and the bus that already wakes notify are the
whole timer.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from services.notify.back_in_stock import repository as back_in_stock_repo
from services.notify.back_in_stock.consumers import BACK_IN_STOCK_DELIVERY
from services.notify.consent import repository as consent_repo
from services.notify.consent.service import purposes_of
from services.notify.context import NotifyContext
from services.notify.journeys import repository as repo
from services.notify.journeys.decide import StepMessage, StepPlace, decide_step, moment_of, step_reasons
from services.notify.journeys.flow import Facts, Flow, walk
from services.notify.journeys.flows import Flows
from services.notify.journeys.repository import Move
from services.notify.journeys.schemas import DeviceZones, MessageStep
from services.notify.offers.consumers import OFFER_DELIVERY
from services.notify.outbox import service as outbox
from services.notify.outbox.delivery import topic_of
from services.notify.outbox.kinds import DeliveryKind
from services.notify.outbox.messages import Addressee, Outgoing
from services.notify.policy.decide import Past, Recipient
from services.notify.policy.purposes import BACK_IN_STOCK, OFFERS, PICKUP_UPDATES, PRODUCT_TIPS
from services.notify.policy.why import Zone, why_of
from services.notify.replicas import service as replicas
from services.notify.replicas.products import ProductInfo
from services.notify.staff_alerts.consumers import PICKUP_DELIVERY
from shared import peers
from shared.db import UNAVAILABLE
from shared.wake_loop import WakeLoop, until_due

log = logging.getLogger("accueil.notify.journeys")

BATCH = 200
FAILED_STEP_PAUSE = timedelta(minutes=1)
GEO_AT_ONCE = 16

TIP_DELIVERY = DeliveryKind(
    purpose=PRODUCT_TIPS,
    ttl=timedelta(hours=12),
    urgency="low",
    still_wanted=outbox.while_consented(PRODUCT_TIPS),
)
"""Advice about a product collected: worth saying that day, never urgent."""

DELIVERY = {
    OFFERS: OFFER_DELIVERY,
    PICKUP_UPDATES: PICKUP_DELIVERY,
    BACK_IN_STOCK: BACK_IN_STOCK_DELIVERY,
    PRODUCT_TIPS: TIP_DELIVERY,
}

Zones = frozenset[tuple[str, str, str]]
"""(store_id, kind, zone_id) of the zones a device is in."""


async def zones_where(ctx: NotifyContext, device_id: str) -> Zones | None:
    """The zones geo sees the device in now (none if geo does not know it), or None if geo cannot say."""
    try:
        here = await peers.get_answer(ctx, "geo", f"/v1/devices/{device_id}/context", DeviceZones)
    except peers.PeerError as exc:
        log.warning("cannot tell where a device is, its journey's branch waits (%s)", exc)
        return None
    return frozenset() if here is None else frozenset((z.store_id, z.kind, z.zone_id) for z in here.zones)


def _start(flow: Flow, e: asyncpg.Record) -> str | None:
    """Where a due enrollment's walk starts: its step, or after the wait it parked at."""
    return flow.after_parking(e["step"]) if e["ran"] else e["step"]


@dataclass(frozen=True)
class Went:
    """Where one enrollment's walk took it: the steps it reached, then its exit (the step it left at
    and why) or its new place."""

    enrollment_id: int
    reached: tuple[str, ...]
    exit: tuple[str, str] | None = None
    move: Move | None = None


@dataclass
class Round:
    """One round's shared reads, and what it writes once its enrollments are walked."""

    now: datetime
    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    """(store, SKU) -> units the store can hand over, for the SKUs the round's branches ask about."""
    products: dict[tuple[str, str], ProductInfo | None] = field(default_factory=dict)
    stores: dict[str | None, replicas.StoreInfo] = field(default_factory=dict)
    reached: list[tuple[int, str]] = field(default_factory=list)
    exits: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    """reason -> (enrollment, the step it left at)"""
    moves: list[Move] = field(default_factory=list)

    async def read_stock(
        self, conn: asyncpg.Connection, locked: list[asyncpg.Record], flow_of: dict[tuple[str, int], Flow]
    ) -> None:
        asked = sorted(
            {
                (e["store_id"], sku)
                for e in locked
                if e["store_id"] is not None
                for sku in flow_of[(e["journey_id"], e["version"])].skus_in_conditions
            }
        )
        levels = await replicas.availability(conn, [a[0] for a in asked], [a[1] for a in asked]) if asked else {}
        self.stock = {a: levels.get(a, 0) for a in asked}

    async def product_at(self, conn: asyncpg.Connection, store_id: str, sku: str) -> ProductInfo | None:
        if (store_id, sku) not in self.products:
            self.products[(store_id, sku)] = await replicas.product_at(conn, store_id, sku)
        return self.products[(store_id, sku)]

    async def store_of(self, conn: asyncpg.Connection, store_id: str | None) -> replicas.StoreInfo:
        if store_id not in self.stores:
            self.stores[store_id] = await replicas.store_of(conn, store_id)
        return self.stores[store_id]

    def take(self, went: Went) -> None:
        self.reached.extend((went.enrollment_id, step) for step in went.reached)
        if went.exit is not None:
            step, reason = went.exit
            self.exits.setdefault(reason, []).append((went.enrollment_id, step))
        if went.move is not None:
            self.moves.append(went.move)

    async def write(self, conn: asyncpg.Connection) -> None:
        await repo.record_steps(conn, self.reached, self.now)
        for reason, left in self.exits.items():
            await repo.leave(conn, [x[0] for x in left], [x[1] for x in left], reason, self.now)
        await repo.move(conn, self.moves)


async def run_due(ctx: NotifyContext, now: datetime | None = None, limit: int = BATCH) -> int:
    """One round; returns how many enrollments were moved."""
    now = now or datetime.now(UTC)
    flows = ctx.part(Flows)
    async with ctx.db.transaction(readonly=True) as conn:
        due = await repo.due(conn, now, limit)
        flow_of = await flows.of(conn, {(e["journey_id"], e["version"]) for e in due})
    if not due:
        return 0
    asking = sorted(
        {
            e["device_id"]
            for e in due
            if (start := _start(flow_of[(e["journey_id"], e["version"])], e)) is not None
            and start in flow_of[(e["journey_id"], e["version"])].asks_where
        }
    )
    where = await _ask_geo(ctx, asking)
    async with ctx.db.transaction() as conn:
        locked = await repo.lock_due(conn, [e["enrollment_id"] for e in due], now)
        states = await repo.journey_states(conn, list({e["journey_id"] for e in locked}))
        this_round = Round(now)
        await this_round.read_stock(conn, locked, flow_of)
        for e in locked:
            state = states[e["journey_id"]]
            if state["ended_at"] is not None:
                # Entered as the journey ended: the entry read it before the end committed, and the end
                # let out everyone it saw, which was not yet this device.
                this_round.take(Went(e["enrollment_id"], (), exit=(e["step"], "journey_ended")))
                continue
            flow = flow_of[(e["journey_id"], e["version"])]
            asked = e["device_id"] in where
            try:
                async with conn.transaction():  # a savepoint: one failing step does not undo the others
                    went = await advance(conn, ctx, e, flow, where.get(e["device_id"]), asked, state, this_round)
            except UNAVAILABLE:
                raise
            except Exception:
                # A bug or a bad row: the enrollment waits and is tried again later, and the batch goes on
                # (left due, it would come first in every batch and hold up every journey).
                log.exception("journey %s: a step failed, tried again in %s", e["journey_id"], FAILED_STEP_PAUSE)
                await repo.postpone(conn, e["enrollment_id"], now + FAILED_STEP_PAUSE)
                continue
            this_round.take(went)  # only a walk whose savepoint held: one that failed writes nothing
        await this_round.write(conn)
    return len(locked)


async def _ask_geo(ctx: NotifyContext, devices: list[str]) -> dict[str, Zones | None]:
    gate = asyncio.Semaphore(GEO_AT_ONCE)

    async def one(device_id: str) -> Zones | None:
        async with gate:
            return await zones_where(ctx, device_id)

    answers = await asyncio.gather(*(one(d) for d in devices))
    return dict(zip(devices, answers, strict=True))


async def advance(
    conn: asyncpg.Connection,
    ctx: NotifyContext,
    e: asyncpg.Record,
    flow: Flow,
    zones: Zones | None,
    asked: bool,
    journey: asyncpg.Record,
    this_round: Round,
) -> Went:
    """Walk one locked enrollment from where it is and queue its messages; where it went is the
    round's to write."""
    store_id = e["store_id"]
    stock = {}
    if store_id is not None:
        stock = {sku: this_round.stock[(store_id, sku)] for sku in flow.skus_in_conditions}
    consents = purposes_of(await consent_repo.get_consents(conn, e["device_id"])) if flow.asks_consent else {}
    facts = Facts(
        zones_here=None
        if zones is None
        else frozenset((kind, zone) for store, kind, zone in zones if store == store_id),
        stock=stock,
        consents=consents,  # type: ignore[arg-type]
        seen=frozenset(e["seen"]),
    )
    walked = walk(flow, _start(flow, e), e["step"], facts)
    if walked.messages:
        who = await outbox.recipient_of(conn, e)
        for step_id in walked.messages:
            step = flow.steps[step_id]
            assert isinstance(step, MessageStep)
            who = await _say(conn, ctx, e, step, who, journey, this_round)
    if walked.exit is not None:
        return Went(e["enrollment_id"], walked.reached, exit=(walked.step, walked.exit))
    wake_after = walked.wake_after
    if not walked.ran and not asked:
        wake_after = timedelta(0)  # its branch needs geo, not asked this round (an event moved it meanwhile)
    wake_at = this_round.now + wake_after if wake_after is not None else None
    return Went(
        e["enrollment_id"],
        walked.reached,
        move=Move(e["enrollment_id"], walked.step, walked.ran, wake_at, walked.awaiting),
    )


async def _say(
    conn: asyncpg.Connection,
    ctx: NotifyContext,
    e: asyncpg.Record,
    step: MessageStep,
    who: Recipient,
    journey: asyncpg.Record,
    this_round: Round,
) -> Recipient:
    """Decide and queue one message step, once per enrollment; the recipient as the next decision sees it."""
    store_id, device_id, now = e["store_id"], e["device_id"], this_round.now
    product = alternative = request = None
    if step.sku is not None and store_id is not None:
        product = await this_round.product_at(conn, store_id, step.sku)
        if step.purpose == OFFERS and (product is None or product.available <= 0):
            alternative = await replicas.best_alternative(conn, store_id, step.sku)
        if step.purpose == BACK_IN_STOCK:
            request = await back_in_stock_repo.open_request(conn, device_id, store_id, step.sku)
    said = StepMessage(
        purpose=step.purpose,
        texts={locale: (m.title, m.body) for locale, m in step.message.items()},
        sku=step.sku,
        product=product,
        alternative=alternative,
        requested=request is not None,
        arm=e["arm"],
        paused=not journey["active"],
    )
    store = await this_round.store_of(conn, store_id)
    moment = moment_of(e["entry_event_id"], store_id, now, store.timezone)
    decision = decide_step(said, who, moment, ctx.policy)
    zone = Zone(kind=e["zone_kind"], name=e["zone_name"]) if e["zone_kind"] is not None else None
    place = StepPlace(store.name, zone, who.timezone)
    requested_at = request["requested_at"] if request is not None else None
    reasons = step_reasons(said, decision, place, journey["name"], step.id, requested_at)
    request_id = request["request_id"] if request is not None and decision.status != "suppressed" else None
    recorded = await outbox.queue(
        conn,
        [
            Outgoing(
                to=Addressee("device", device_id),
                event_id=e["entry_event_id"],
                kind=DELIVERY[step.purpose],
                status=decision.status,
                reason=decision.reason,
                store_id=store_id,
                sku=decision.sku,
                locale=decision.locale,
                title=decision.title,
                body=decision.body,
                topic=topic_of("journey", e["journey_id"], str(e["enrollment_id"]), step.id),
                send_after=decision.send_after,
                request_id=request_id,
                journey_id=e["journey_id"],
                journey_step=step.id,
                enrollment_id=e["enrollment_id"],
                why=why_of(decision, reasons, who.timezone),
            )
        ],
    )
    if recorded and request_id is not None:
        await back_in_stock_repo.mark_answered(conn, [request_id])
    if recorded and decision.status != "suppressed":
        who = who.remember(Past(e["entry_event_id"], step.purpose, store_id, decision.sku, now))
    return who


class JourneyRunner:
    """This replica's runner: woken when an enrollment is due at once (NOTIFY), otherwise polling for
    waits and timeouts falling due (at most `poll_s` late)."""

    def __init__(self, poll_s: float) -> None:
        self._ctx: NotifyContext | None = None
        self._poll_s = poll_s
        self._loop = WakeLoop(self._round, name="notify-journeys", log=log, what="journey runner")

    def start(self, ctx: NotifyContext) -> None:
        self._ctx = ctx
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop(10)

    def wake(self, *_: object) -> None:
        self._loop.wake()

    async def _round(self) -> float | None:
        assert self._ctx is not None
        if await run_due(self._ctx):
            return None
        async with self._ctx.db.transaction(readonly=True) as conn:
            due = await repo.next_wake(conn)
        return until_due(due, datetime.now(UTC), self._poll_s)
