"""A device's events move it along its journeys (the bus, in the claiming transaction):

- it enters the running journeys its event enters (filters, schedule, re-entry, its arm);
- an awaited event makes its `wait_for` step go on (the runner runs the next steps at once);
- an `exit_on` event, or withdrawing a consent the journey needs, makes it leave;
- a goal event within the window converts it, whatever it was sent.

No step runs here: running one may ask geo where the device is, which is never done with a
transaction open. The runner (runner.py) runs what this makes due, woken on commit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import asyncpg

from services.notify.consent import repository as consent_repo
from services.notify.consent.service import purposes_of
from services.notify.context import NotifyContext
from services.notify.journeys import arms
from services.notify.journeys import repository as repo
from services.notify.journeys.flow import ORDER_EVENTS, Flow
from services.notify.journeys.flows import Flows
from services.notify.journeys.repository import Move
from services.notify.replicas import service as replicas
from shared import keys
from shared.bus import Consumer
from shared.events import (
    ConsentChanged,
    Event,
    OrderCollected,
    OrderReady,
    OrderReserved,
    TripApproaching,
    TripArrived,
    ZoneDwelled,
    ZoneEntered,
    ZoneExited,
)


def arm_key(ctx: NotifyContext) -> bytes:
    return keys.derive(ctx.settings.token_key, keys.JOURNEY_ARMS)


def _skus(event: Event) -> frozenset[str]:
    if isinstance(event, OrderReserved | OrderReady | OrderCollected):
        return frozenset(line.sku for line in event.data.lines)
    return frozenset()


def _zone_kind(event: Event) -> str | None:
    if isinstance(event, ZoneEntered | ZoneDwelled | ZoneExited):
        return event.data.kind
    return None


def _entry_zone(event: Event) -> repo.EntryZone | None:
    if isinstance(event, ZoneEntered | ZoneDwelled) and event.zone_id is not None:
        return repo.EntryZone(event.zone_id, event.data.kind, event.data.name)
    return None


def _awaited_here(enrollment: asyncpg.Record, event: Event) -> bool:
    """Zone and trip events count at the journey's store; order events for any order of the device."""
    return event.type in ORDER_EVENTS or enrollment["store_id"] is None or enrollment["store_id"] == event.store_id


async def on_consent(
    conn: asyncpg.Connection,
    event: ConsentChanged,
    mine: list[asyncpg.Record],
    flows: dict[tuple[str, int], Flow],
    now: datetime,
) -> None:
    """Withdrawing `location` or a purpose of a journey's messages, once granted, makes the device leave."""
    answers = event.data.purposes
    leaving: list[asyncpg.Record] = []
    for e in mine:
        if e["exited_at"] is not None:
            continue
        needed = flows[(e["journey_id"], e["version"])].purposes
        if any(not answers.get(p, False) for p in e["granted"]):
            leaving.append(e)
        else:
            granted = sorted(p for p in needed if answers.get(p, False))  # type: ignore[call-overload]
            if granted != sorted(e["granted"]):
                await repo.note(conn, e["enrollment_id"], list(e["seen"]), granted)
    await repo.leave(
        conn, [e["enrollment_id"] for e in leaving], [e["step"] for e in leaving], "consent_withdrawn", now
    )


async def on_device_event(conn: asyncpg.Connection, event: Event, ctx: NotifyContext) -> None:
    device_id = event.device_id
    if device_id is None:
        return
    device = await consent_repo.lock_device(conn, device_id)
    if device is None:
        return  # erased, or never registered with notify
    now = datetime.now(UTC)
    mine = list(await repo.enrollments_of(conn, device_id))
    candidates = [] if isinstance(event, ConsentChanged) else await repo.journeys_entered_on(conn, event.type)
    keys_wanted = {(e["journey_id"], e["version"]) for e in mine} | {
        (c["journey_id"], c["version"]) for c in candidates
    }
    if not keys_wanted:
        return
    flows = await ctx.part(Flows).of(conn, keys_wanted)
    if isinstance(event, ConsentChanged):
        await on_consent(conn, event, mine, flows, now)
        return
    skus = _skus(event)
    moved = await _move_live(conn, event, [e for e in mine if e["exited_at"] is None], flows, now)
    await _convert(conn, event, mine, flows, skus)
    entered = await _enter(conn, event, device_id, mine, candidates, flows, skus, now, ctx)
    if moved or entered:
        await repo.wake_runners(conn)


async def _move_live(
    conn: asyncpg.Connection,
    event: Event,
    live: list[asyncpg.Record],
    flows: dict[tuple[str, int], Flow],
    now: datetime,
) -> bool:
    leaving: list[asyncpg.Record] = []
    moves: list[Move] = []
    for e in live:
        flow = flows[(e["journey_id"], e["version"])]
        if event.type in flow.exit_on:
            leaving.append(e)
            continue
        if event.type not in e["seen"]:
            await repo.note(conn, e["enrollment_id"], [*e["seen"], event.type], list(e["granted"]))
        if e["ran"] and e["awaiting"] == event.type and _awaited_here(e, event):
            next_step = flow.after_event(e["step"])
            if next_step is None:
                await repo.leave(conn, [e["enrollment_id"]], [e["step"]], "completed", now)
            else:
                moves.append(Move(e["enrollment_id"], next_step, False, now, None))
    await repo.leave(conn, [e["enrollment_id"] for e in leaving], [e["step"] for e in leaving], "exit_event", now)
    await repo.move(conn, moves)
    return bool(moves)


async def _convert(
    conn: asyncpg.Connection,
    event: Event,
    mine: list[asyncpg.Record],
    flows: dict[tuple[str, int], Flow],
    skus: frozenset[str],
) -> None:
    """The goal came within its window after the device entered (an event after the one it entered on)."""
    converted = [
        e["enrollment_id"]
        for e in mine
        if e["converted_at"] is None
        and e["goal_until"] is not None
        and e["entry_event_id"] < event.id
        and e["entered_at"] <= event.ts <= e["goal_until"]
        and flows[(e["journey_id"], e["version"])].converts_on(event.type, skus)
    ]
    await repo.convert(conn, converted, event.ts)


async def _enter(
    conn: asyncpg.Connection,
    event: Event,
    device_id: str,
    mine: list[asyncpg.Record],
    candidates: list[asyncpg.Record],
    flows: dict[tuple[str, int], Flow],
    skus: frozenset[str],
    now: datetime,
    ctx: NotifyContext,
) -> bool:
    last = {e["journey_id"]: e for e in mine}  # oldest first: the last one of each journey wins
    entered = False
    consents = None
    for c in candidates:
        flow = flows.get((c["journey_id"], c["version"]))
        if flow is None or not flow.enters_on(event.type, event.store_id, _zone_kind(event), event.zone_id, skus):
            continue
        before = last.get(c["journey_id"])
        if before is not None:
            if before["exited_at"] is None or flow.reentry is None or now < before["exited_at"] + flow.reentry:
                continue
        entered_at = min(event.ts, now)
        if flow.schedule is not None:
            tz = ZoneInfo((await replicas.store_of(conn, event.store_id)).timezone)
            if not flow.schedule.within(entered_at.astimezone(tz)):
                continue
        if consents is None:
            consents = purposes_of(await consent_repo.get_consents(conn, device_id))
        arm = (
            before["arm"]
            if before is not None
            else arms.draw(arm_key(ctx), c["journey_id"], device_id, flow.holdout_percent)
        )
        goal_until = entered_at + flow.goal.within if flow.goal is not None else None
        granted = sorted(p for p in flow.purposes if consents.get(p, False))  # type: ignore[call-overload]
        entered |= await repo.enroll(
            conn,
            c["journey_id"],
            c["version"],
            device_id,
            arm,
            event.store_id,
            event.id,
            entered_at,
            flow.first,
            granted,
            goal_until,
            now,
            _entry_zone(event),
        )
    return entered


JOURNEY_EVENTS = Consumer(
    name="notify.journeys",
    types=(
        ZoneEntered,
        ZoneDwelled,
        ZoneExited,
        TripApproaching,
        TripArrived,
        OrderReserved,
        OrderReady,
        OrderCollected,
        ConsentChanged,
    ),
    handle=on_device_event,
)
