"""Journeys: saving one (a new version when its flow changes), ending it, its results, a device's
enrollments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from services.notify.consent.service import known_device
from services.notify.context import NotifyContext
from services.notify.journeys import flow as flows
from services.notify.journeys import repository as repo
from services.notify.journeys import uplift
from services.notify.journeys.schemas import (
    ArmGoal,
    BranchStep,
    Enrollment,
    Enrollments,
    GoalResults,
    Journey,
    JourneyDocument,
    JourneyPut,
    JourneyResults,
    MessageStep,
    StepResults,
    Uplift,
)
from services.notify.offers.service import window
from services.notify.replicas import service as replicas
from shared import audit
from shared.errors import Conflict, Invalid, NotFound

PENDING = frozenset({"pending", "sending", "held"})


def journey_of(row: asyncpg.Record) -> Journey:
    doc = msgspec.convert(row["document"], JourneyDocument)
    return Journey(
        journey_id=row["journey_id"],
        version=row["version"],
        name=row["name"],
        active=row["active"],
        entry=doc.entry,
        steps=doc.steps,
        reentry=doc.reentry,
        holdout_percent=doc.holdout_percent,
        exit_on=list(doc.exit_on),
        goal=doc.goal,
        schedule=doc.schedule,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        ended_at=row["ended_at"],
    )


def document_of(data: JourneyPut) -> JourneyDocument:
    return JourneyDocument(
        entry=data.entry,
        steps=data.steps,
        reentry=data.reentry,
        holdout_percent=data.holdout_percent,
        goal=data.goal,
        exit_on=data.exit_on,
        schedule=data.schedule,
    )


async def check_products(conn: asyncpg.Connection, doc: JourneyDocument) -> None:
    """Every SKU the journey names is a product inventory told notify about."""
    named: list[tuple[str, str]] = []
    for i, step in enumerate(doc.steps):
        if isinstance(step, MessageStep) and step.sku is not None:
            named.append((f"steps[{i}].sku", step.sku))
        elif isinstance(step, BranchStep) and step.if_.in_stock is not None:
            named.append((f"steps[{i}].if.in_stock", step.if_.in_stock))
    for field, sku in named:
        if not await replicas.product_known(conn, sku):
            raise Invalid(f"unknown product {sku!r}: create it in inventory first", field=field)


async def save_journey(ctx: NotifyContext, journey_id: str, data: JourneyPut) -> Journey:
    """Create or change a journey. A changed flow is a new version, which new entries take; devices
    already in it finish the version they entered. Name and `active` alone change no version."""
    doc = document_of(data)
    flows.check(doc)
    document: dict[str, Any] = msgspec.to_builtins(doc)
    async with ctx.db.transaction() as conn:
        await check_products(conn, doc)
        earlier = await repo.get_journey(conn, journey_id, lock=True)
        if earlier is not None and earlier["ended_at"] is not None:
            raise Conflict(f"journey {journey_id!r} has ended: start a new one under another id", field="journey_id")
        version = 1
        if earlier is not None:
            version = earlier["version"] if earlier["document"] == document else earlier["version"] + 1
        await repo.save_journey(conn, journey_id, data.name, data.active, version, data.entry.event)
        if earlier is None or version != earlier["version"]:
            await repo.add_version(conn, journey_id, version, document)
        row = await repo.get_journey(conn, journey_id)
        assert row is not None
        await audit.record(conn, ctx.service, earlier and journey_of(earlier), journey_of(row))
    return journey_of(row)


async def _journey_row(conn: asyncpg.Connection, journey_id: str) -> asyncpg.Record:
    row = await repo.get_journey(conn, journey_id)
    if row is None:
        raise NotFound(f"unknown journey {journey_id!r}", field="journey_id")
    return row


async def get_journey(ctx: NotifyContext, journey_id: str) -> Journey:
    async with ctx.db.transaction(readonly=True) as conn:
        return journey_of(await _journey_row(conn, journey_id))


async def list_journeys(ctx: NotifyContext) -> list[Journey]:
    async with ctx.db.transaction(readonly=True) as conn:
        return [journey_of(r) for r in await repo.list_journeys(conn)]


async def end_journey(ctx: NotifyContext, journey_id: str) -> None:
    """Nobody enters any more, and every device in it leaves (`journey_ended`), in one transaction;
    its enrollments, messages and results stay. Ending it again: 404 (nothing to end)."""
    now = datetime.now(UTC)
    async with ctx.db.transaction() as conn:
        earlier = await repo.get_journey(conn, journey_id, lock=True)
        if earlier is None:
            raise NotFound(f"unknown journey {journey_id!r}", field="journey_id")
        if not await repo.end_journey(conn, journey_id, now):
            raise NotFound(f"journey {journey_id!r} has already ended", field="journey_id")
        live = await repo.live_of_journey(conn, journey_id)
        await repo.leave(conn, [r["enrollment_id"] for r in live], [r["step"] for r in live], "journey_ended", now)
        ended = await _journey_row(conn, journey_id)
        await audit.record(conn, ctx.service, journey_of(earlier), journey_of(ended))


async def results(
    ctx: NotifyContext, journey_id: str, since: datetime | None, until: datetime | None
) -> JourneyResults:
    """What came of the devices that entered in [since, until] (all time by default): five statements
    whatever the journey's size, each planned for that window."""
    since, until = window(since, until)
    async with ctx.db.transaction(isolation="repeatable_read", readonly=True) as conn:
        row = await _journey_row(conn, journey_id)
        await repo.plan_for_the_window(conn)
        arms = await repo.arm_counts(conn, journey_id, since, until)
        reached = await repo.step_counts(conn, journey_id, since, until)
        messages = await repo.message_counts(conn, journey_id, since, until)
        live = await repo.live_counts(conn, journey_id)
    return tally(journey_of(row), arms, reached, messages, live)


def tally(
    journey: Journey,
    arms: list[asyncpg.Record],
    reached: list[asyncpg.Record],
    messages: list[asyncpg.Record],
    live: list[asyncpg.Record],
) -> JourneyResults:
    entered = {"treatment": 0, "control": 0}
    converted = {"treatment": 0, "control": 0}
    exits: dict[str, int] = {}
    for r in arms:
        entered[r["arm"]] += r["entered"]
        converted[r["arm"]] += r["converted"]
        if r["exit_reason"] is not None:
            exits[r["exit_reason"]] = exits.get(r["exit_reason"], 0) + r["entered"]
    message_steps = {s.id for s in journey.steps if isinstance(s, MessageStep)} | {r["step"] for r in messages}
    steps: dict[str, StepResults] = {}
    for step_id in [s.id for s in journey.steps] + sorted({r["step"] for r in reached} - {s.id for s in journey.steps}):
        steps[step_id] = StepResults(reached=0)
    for r in reached:
        steps[r["step"]] = StepResults(reached=r["reached"])
    for step_id in message_steps:
        steps[step_id] = StepResults(
            reached=steps.get(step_id, StepResults(reached=0)).reached, sent=0, pending=0, failed=0, suppressed={}
        )
    for r in messages:
        s = steps[r["step"]]
        if r["status"] == "sent":
            s.sent = (s.sent or 0) + r["n"]
        elif r["status"] in PENDING:
            s.pending = (s.pending or 0) + r["n"]
        elif r["status"] == "failed":
            s.failed = (s.failed or 0) + r["n"]
        else:
            reason = r["reason"] or "unknown"
            assert s.suppressed is not None
            s.suppressed[reason] = s.suppressed.get(reason, 0) + r["n"]
    goal = None
    if journey.goal is not None:
        difference = uplift.difference(
            (converted["treatment"], entered["treatment"]), (converted["control"], entered["control"])
        )
        goal = GoalResults(
            treatment=ArmGoal(
                entered["treatment"], converted["treatment"], uplift.rate(converted["treatment"], entered["treatment"])
            ),
            control=ArmGoal(
                entered["control"], converted["control"], uplift.rate(converted["control"], entered["control"])
            ),
            uplift=None
            if difference is None
            else Uplift(
                absolute=difference.absolute, relative=difference.relative, ci95=(difference.low, difference.high)
            ),
        )
    return JourneyResults(
        journey_id=journey.journey_id,
        entered=entered,
        steps=steps,
        exits=exits,
        goal=goal,
        now={r["step"]: r["n"] for r in live},
    )


async def enrollments_of(ctx: NotifyContext, device_id: str) -> Enrollments:
    async with ctx.db.transaction(readonly=True) as conn:
        await known_device(conn, device_id)
        rows = await repo.device_enrollments(conn, device_id)
    return Enrollments(
        device_id=device_id,
        enrollments=[
            Enrollment(
                journey_id=r["journey_id"],
                version=r["version"],
                arm=r["arm"],
                step=r["step"],
                entered_at=r["entered_at"],
                exited_at=r["exited_at"],
                exit_reason=r["exit_reason"],
            )
            for r in rows
        ],
    )
