"""Dry runs: the history read in one read-only snapshot, then replayed by the pure rules
(simulate.py for a campaign, journey_replay.py for a journey)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import get_args

import asyncpg

from services.notify.context import NotifyContext
from services.notify.dry_run import repository as repo
from services.notify.dry_run.journey_replay import Happening, Plan, StepTally, Tally, Walker, replay
from services.notify.dry_run.schemas import CampaignDryRun, DryRun, DryRunStep, JourneyDryRun, JourneyDryRunAnswer
from services.notify.dry_run.simulate import (
    RECENT,
    Campaign,
    Device,
    History,
    Product,
    Shelf,
    StockChange,
    Trigger,
    Visit,
    dry_run,
)
from services.notify.journeys import arms
from services.notify.journeys import flow as flows
from services.notify.journeys.consumers import arm_key
from services.notify.journeys.schemas import BranchStep, JourneyEvent, MessageStep, Step
from services.notify.journeys.service import check_products, document_of
from services.notify.offers.service import check_document, check_product
from services.notify.policy.decide import Past
from services.notify.replicas.service import UNKNOWN_STORE_TIMEZONE
from shared import bus
from shared.errors import Invalid
from shared.events import OrderCollected, OrderReady, OrderReserved, StockChanged, ZoneDwelled, ZoneEntered, ZoneExited

AS_OF_NOW = ["push_targets", "devices", "products", "store_timezones"]
"""What notify keeps no history of: read as it is now (see DryRun.as_of_now)."""
JOURNEY_EVENTS: tuple[str, ...] = get_args(JourneyEvent)
DRY_RUN_JOURNEY = "dry-run"
"""The journey id arms are drawn for when the dry run names none."""


def _window(ctx: NotifyContext, days: int, now: datetime | None) -> tuple[datetime, datetime]:
    if days > ctx.settings.event_retention_days:
        raise Invalid(f"the event log keeps {ctx.settings.event_retention_days} days", field="days")
    until = now or datetime.now(UTC)
    return until - timedelta(days=days), until


def _campaign(data: CampaignDryRun) -> Campaign:
    trigger = data.trigger
    return Campaign(
        trigger=Trigger(trigger.type, trigger.store_id, trigger.zone_id, trigger.zone_kind),
        sku=data.sku,
        messages={locale: (m.title, m.body) for locale, m in data.message.items()},
        min_confidence=trigger.min_confidence,
        active=data.active,
        schedule=check_document(data),
    )


def _visit(logged: bus.Logged) -> Visit | None:
    event = logged.event
    if event.device_id is None or not isinstance(event, ZoneEntered | ZoneDwelled):
        return None
    return Visit(
        event_id=event.id,
        type=event.type,
        device_id=event.device_id,
        store_id=event.store_id,
        zone_id=event.zone_id,
        zone_kind=event.data.kind,
        confidence=event.data.confidence,
        happened_at=event.ts,
        published_at=logged.published_at,
    )


async def campaign_dry_run(ctx: NotifyContext, data: CampaignDryRun, now: datetime | None = None) -> DryRun:
    """What the campaign would have done over the last `days` days; nothing is written anywhere."""
    campaign = _campaign(data)
    since, until = _window(ctx, data.days, now)
    trigger = campaign.trigger
    # One snapshot, read only: the history is consistent, and the transaction cannot write.
    async with ctx.db.transaction(isolation="repeatable_read", readonly=True) as conn:
        await check_product(conn, data)
        logged = await bus.happened_between(conn, [trigger.type], since, until, trigger.store_id)
        visits = [v for v in map(_visit, logged) if v is not None and trigger.matches(v)]
        device_ids = sorted({v.device_id for v in visits})
        devices, shelf = await _past(conn, device_ids, [data.sku], since, until, trigger.store_id)
        timezones = await _timezones(conn, {v.store_id for v in visits})
    outcome = dry_run(campaign, History(tuple(visits), devices, shelf, timezones), ctx.policy)
    return DryRun(
        since=since,
        until=until,
        events=outcome.events,
        devices=len(outcome.devices),
        messages=outcome.messages,
        alternatives=outcome.alternatives,
        suppressed=dict(sorted(outcome.suppressed.items())),
        as_of_now=AS_OF_NOW,
    )


def _happening(logged: bus.Logged) -> Happening:
    event = logged.event
    kind = event.data.kind if isinstance(event, ZoneEntered | ZoneDwelled | ZoneExited) else None
    skus: frozenset[str] = frozenset()
    if isinstance(event, OrderReserved | OrderReady | OrderCollected):
        skus = frozenset(line.sku for line in event.data.lines)
    return Happening(event.id, event.type, event.store_id, event.zone_id, kind, skus, logged.published_at)


def _skus_named(steps: list[Step]) -> list[str]:
    named = {s.sku for s in steps if isinstance(s, MessageStep) and s.sku is not None}
    named |= {s.if_.in_stock for s in steps if isinstance(s, BranchStep) and s.if_.in_stock is not None}
    return sorted(named)


async def journey_dry_run(ctx: NotifyContext, data: JourneyDryRun, now: datetime | None = None) -> JourneyDryRunAnswer:
    """What the journey would have done with the devices of the last `days` days; nothing is written."""
    doc = document_of(data)
    flow = flows.check(doc)
    since, until = _window(ctx, data.days, now)
    entry = flow.entry
    async with ctx.db.transaction(isolation="repeatable_read", readonly=True) as conn:
        await check_products(conn, doc)
        entered_on = await bus.happened_between(conn, [entry.event], since, until, entry.store_id)
        entries = [(e.event.device_id, _happening(e)) for e in entered_on]
        device_ids = sorted(
            {
                d
                for d, h in entries
                if d is not None and flow.enters_on(h.type, h.store_id, h.zone_kind, h.zone_id, h.skus)
            }
        )
        logged = await bus.happened_between(conn, JOURNEY_EVENTS, since, until, device_ids=device_ids)
        devices, shelf = await _past(conn, device_ids, _skus_named(doc.steps), since, until, entry.store_id)
        requests = await repo.open_requests(conn, device_ids)
        timezones = await _timezones(conn, {h.store_id for _, h in entries})
    happenings: dict[str, list[Happening]] = defaultdict(list)
    for one in logged:
        if one.event.device_id is not None:
            happenings[one.event.device_id].append(_happening(one))
    asked: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in requests:
        asked[r["device_id"]].add((r["store_id"], r["sku"]))
    key, journey_id = arm_key(ctx), data.journey_id or DRY_RUN_JOURNEY
    walkers = {
        d: Walker(
            device,
            arms.draw(key, journey_id, d, flow.holdout_percent),
            tuple(happenings[d]),
            frozenset(asked[d]),
        )
        for d, device in devices.items()
    }
    tally = replay(Plan(flow, data.active, timezones, shelf), walkers, until, ctx.policy)
    message_steps = {s.id for s in doc.steps if isinstance(s, MessageStep)}
    return JourneyDryRunAnswer(
        since=since,
        until=until,
        events=tally.events,
        devices=len(tally.devices),
        entered=tally.entered,
        messages=tally.messages,
        suppressed=dict(sorted(tally.suppressed.items())),
        steps={s.id: _step(tally, s.id, s.id in message_steps) for s in doc.steps},
        exits=dict(sorted(tally.exits.items())),
        as_of_now=[*AS_OF_NOW, "back_in_stock_requests"],
    )


def _step(tally: Tally, step_id: str, says: bool) -> DryRunStep:
    counted = tally.steps.get(step_id, StepTally())
    if not says:
        return DryRunStep(reached=counted.reached)
    return DryRunStep(reached=counted.reached, sent=counted.sent, suppressed=dict(sorted(counted.suppressed.items())))


# --- the history both read ---


async def _past(
    conn: asyncpg.Connection,
    device_ids: list[str],
    skus: list[str],
    since: datetime,
    until: datetime,
    store_id: str | None,
) -> tuple[dict[str, Device], Shelf]:
    """The devices notify knows among these, with their consent answers and what was said to them
    (back as far as the caps look), and the shelves: these products and their alternatives."""
    known = await repo.devices(conn, device_ids)
    answers = await repo.consent_answers(conn, device_ids, until)
    said = await repo.said_between(conn, device_ids, since - RECENT, until)
    products = await repo.products_of_categories(conn, skus)
    stock = await repo.stock_now(conn, [p["sku"] for p in products])
    changes = await bus.happened_between(conn, ["stock.changed"], since, until, store_id)
    return _devices(known, answers, said), _shelf(products, stock, changes)


async def _timezones(conn: asyncpg.Connection, stores: set[str | None]) -> dict[str, str]:
    named = sorted(s for s in stores if s is not None)
    found = await repo.store_timezones(conn, named)
    return {s: found.get(s, UNKNOWN_STORE_TIMEZONE) for s in named}


def _devices(
    known: list[asyncpg.Record], answers: list[asyncpg.Record], said: list[asyncpg.Record]
) -> dict[str, Device]:
    answers_of: dict[str, list[tuple[datetime, dict[str, bool]]]] = defaultdict(list)
    for a in answers:
        answers_of[a["device_id"]].append((a["at"], a["purposes"]))
    said_of: dict[str, list[Past]] = defaultdict(list)
    for m in said:
        said_of[m["device_id"]].append(Past(m["event_id"], m["purpose"], m["store_id"], m["sku"], m["decided_at"]))
    return {
        d["device_id"]: Device(
            locale=d["locale"],
            timezone=d["timezone"],
            subscribed=d["subscribed"],
            answers=tuple(answers_of[d["device_id"]]),
            said=tuple(said_of[d["device_id"]]),
        )
        for d in known
    }


def _shelf(products: list[asyncpg.Record], stock: list[asyncpg.Record], changes: list[bus.Logged]) -> Shelf:
    known = {p["sku"]: Product(p["sku"], p["name"], p["category"], p["names"]) for p in products}
    history: dict[tuple[str, str], list[StockChange]] = defaultdict(list)
    for logged in changes:
        event = logged.event
        if isinstance(event, StockChanged) and event.store_id is not None and event.data.sku in known:
            history[(event.store_id, event.data.sku)].append(
                StockChange(logged.published_at, event.data.before, event.data.after)
            )
    return Shelf(
        products=known,
        now={(s["store_id"], s["sku"]): s["available"] for s in stock},
        changes={k: tuple(v) for k, v in history.items()},
    )
