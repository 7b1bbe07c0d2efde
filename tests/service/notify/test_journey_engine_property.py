"""Any valid journey, any sequence of a device's events, consent answers and time passing: the engine
(the bus consumer and the due-step runner, on the real database, geo answering or not) never loses
a device, never says a step twice, and leaves a trail that agrees with how each device left.

Time: the runner is given the time (`run_due(ctx, now=...)`), which the test moves forward from the
present; the consumer and `end_journey` read the clock themselves. So a device the consumer moves
is due at the real present, which is never later than the test's time, and the runner takes it at
once; a wait ends when the test's time passes it. What reads SQL's now() (a message's expiry, the
caps' window) runs on the real clock: the assertions do not depend on it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.notify.consent.schemas import ConsentPut, DeviceCreate
from services.notify.consent.service import answer_consents, register_device
from services.notify.context import NotifyContext
from services.notify.journeys import runner
from services.notify.journeys import service as journey_service
from services.notify.journeys.consumers import on_device_event
from services.notify.journeys.flow import Flow, check
from services.notify.journeys.flows import Flows
from services.notify.journeys.schemas import (
    BranchStep,
    ExitStep,
    JourneyPut,
    MessageStep,
    Step,
    WaitForStep,
    WaitStep,
)
from services.notify.outbox import repository as outbox_repo
from services.notify.outbox.messages import Addressee
from services.notify.push.channel import Target
from services.notify.replicas import repository as replicas_repo
from shared import bus
from shared.db import Database
from shared.events import (
    PURPOSES,
    Event,
    OrderCollected,
    OrderData,
    OrderLine,
    OrderReady,
    OrderReserved,
    ZoneDwelled,
    ZoneDwelledData,
    ZoneEntered,
    ZoneEnteredData,
    ZoneExited,
    ZoneExitedData,
    ZoneRef,
)
from tests.conftest import TESTING_NOTIFY, RunningServices, free_socket, one_service, settings_for
from tests.service.notify.conftest import notify_context
from tests.support.journey_documents import document

STORE = "rivoli"
IN_STOCK, SOLD_OUT, ALTERNATIVE = "YOG-1", "YOG-2", "YOG-3"
DURATIONS = ["PT1S", "PT30S", "PT5M", "PT1H"]
ZONE_EVENTS = ["zone.entered", "zone.dwelled", "zone.exited"]
ORDER_EVENTS = ["order.reserved", "order.ready", "order.collected"]
EVENTS = ZONE_EVENTS + ORDER_EVENTS
KINDS = ["message", "wait", "wait_for", "branch", "exit"]
MOVING = {"branch", "message"}
"""Steps a walk goes through without stopping: a loop of these alone is refused."""
EXIT_REASONS = {"completed", "exit_event", "consent_withdrawn", "journey_ended", "erased"}
ASKED: list[str] = list(PURPOSES)
MESSAGE_PURPOSES = ["offers", "pickup_updates", "back_in_stock", "product_tips"]


# ------------------------------------------------------------------------------------ journeys


@st.composite
def journeys(draw: st.DrawFn) -> dict[str, Any]:
    """A valid journey by construction: up to 8 steps of every type, each referring to steps among the
    journey's (most often the next one); a branch or a message never leads back to a branch or a
    message at or before it, so every loop passes a wait; then only the steps reachable from the
    first are kept."""
    n = draw(st.integers(1, 8))
    ids = [f"s{i}" for i in range(n)]
    kinds = [draw(st.sampled_from(KINDS)) for _ in ids]

    def target(i: int) -> str | None:
        chosen = draw(st.one_of(st.just(ids[i + 1] if i + 1 < n else None), st.sampled_from(ids), st.none()))
        if chosen is not None and kinds[i] in MOVING and kinds[ids.index(chosen)] in MOVING and ids.index(chosen) <= i:
            return None
        return chosen

    steps: list[dict[str, Any]] = []
    for i, kind in enumerate(kinds):
        step: dict[str, Any] = {"id": ids[i], "type": kind}
        if kind == "wait":
            step |= {"for": draw(st.sampled_from(DURATIONS)), "next": target(i)}
        elif kind == "wait_for":
            step |= {"event": draw(st.sampled_from(EVENTS)), "timeout": draw(st.sampled_from(DURATIONS))}
            step |= {"next": target(i), "timeout_next": target(i)}
        elif kind == "branch":
            step |= {"if": draw(conditions), "then": target(i), "else": target(i)}
        elif kind == "message":
            step |= draw(message_steps()) | {"next": target(i)}
        steps.append({k: v for k, v in step.items() if v is not None})
    by_id = {s["id"]: s for s in steps}
    reachable, frontier = {ids[0]}, [ids[0]]
    while frontier:
        current = by_id[frontier.pop()]
        for name in ("next", "timeout_next", "then", "else"):
            t = current.get(name)
            if t is not None and t not in reachable:
                reachable.add(t)
                frontier.append(t)
    entry_event = draw(st.sampled_from(EVENTS))
    entry: dict[str, Any] = {"event": entry_event, "store_id": draw(st.sampled_from([STORE, None]))}
    if entry_event in ZONE_EVENTS:
        entry["zone_kind"] = draw(st.sampled_from(["department", "store", None]))
    goal = draw(st.one_of(st.none(), st.builds(lambda e: {"event": e, "within": "PT1H"}, st.sampled_from(EVENTS))))
    return {
        "name": "Any journey",
        "entry": {k: v for k, v in entry.items() if v is not None},
        "steps": [s for s in steps if s["id"] in reachable],
        "holdout_percent": draw(st.sampled_from([50, 10, 0])),
        "reentry": draw(st.sampled_from(["never", "PT1S"])),
        "exit_on": draw(st.lists(st.sampled_from(EVENTS), max_size=2, unique=True)),
        **({"goal": goal} if goal else {}),
    }


conditions = st.one_of(
    st.builds(lambda k: {"in_zone": {"zone_kind": k} if k else {}}, st.sampled_from(["department", None])),
    st.builds(lambda s: {"in_stock": s}, st.sampled_from([IN_STOCK, SOLD_OUT])),
    st.builds(lambda p: {"consent": p}, st.sampled_from(ASKED)),
    st.builds(lambda e: {"had_event": e}, st.sampled_from(EVENTS)),
)


@st.composite
def message_steps(draw: st.DrawFn) -> dict[str, Any]:
    """What a message step says, and about what: a product tip or a pickup update may name none."""
    purpose = draw(st.sampled_from(MESSAGE_PURPOSES))
    sku = draw(st.sampled_from([IN_STOCK, SOLD_OUT]))
    if purpose in ("pickup_updates", "product_tips") and draw(st.booleans()):
        return {"purpose": purpose, "message": {"en": {"title": "Hello", "body": "See you soon"}}}
    return {"purpose": purpose, "sku": sku, "message": {"en": {"title": "Hello", "body": "{product} here"}}}


# ------------------------------------------------------------------------------------ what happens

Action = tuple[Any, ...]
MOSTLY_YES = st.sampled_from([True, True, True, False])
answers = st.fixed_dictionaries(dict.fromkeys(ASKED, MOSTLY_YES))


@dataclasses.dataclass
class Scenario:
    journeys: list[dict[str, Any]]
    consents: list[dict[str, bool]]
    """each device's first answer (one to three devices)"""
    subscribed: list[bool]
    happenings: list[Action]
    """("event", device, type, zone kind), ("consent", device, answers), ("time", seconds, geo answers)"""


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Journeys, devices, and what happens: a device's events are the entry event of a journey (the
    first thing that happens), one a journey waits for or leaves on, or any other."""
    plans = draw(st.lists(journeys(), min_size=1, max_size=2))
    entries = [(p["entry"]["event"], p["entry"].get("zone_kind", "department")) for p in plans]
    named = [s["event"] for p in plans for s in p["steps"] if s["type"] == "wait_for"]
    named += [e for p in plans for e in p["exit_on"]]
    kind = st.sampled_from(["department", "store"])
    devices = st.integers(0, 2)
    entering = st.builds(lambda d, e: ("event", d, *e), devices, st.sampled_from(entries))
    happening = st.one_of(
        entering,
        st.tuples(st.just("event"), devices, st.sampled_from(named or EVENTS), kind),
        st.tuples(st.just("event"), devices, st.sampled_from(EVENTS), kind),
        st.tuples(st.just("consent"), devices, answers),
        st.tuples(st.just("time"), st.sampled_from([1, 5, 30, 300, 3600]), st.booleans()),
    )
    n = draw(st.integers(1, 3))
    return Scenario(
        journeys=plans,
        consents=draw(st.lists(answers, min_size=n, max_size=n)),
        subscribed=draw(st.lists(MOSTLY_YES, min_size=n, max_size=n)),
        happenings=[draw(entering), *draw(st.lists(happening, max_size=30))],
    )


def device_event(tag: str, device_id: str, event_type: str, zone_kind: str, at: datetime) -> Event:
    zone = "garden" if zone_kind == "department" else STORE
    here = [ZoneRef(STORE, zone)]
    ids: dict[str, Any] = {"ts": at, "device_id": device_id, "store_id": STORE}
    if event_type == "zone.entered":
        return ZoneEntered(
            **ids, zone_id=zone, data=ZoneEnteredData(kind=zone_kind, confidence=1.0, via="gps", zones=here)
        )
    if event_type == "zone.dwelled":
        return ZoneDwelled(
            **ids, zone_id=zone, data=ZoneDwelledData(kind=zone_kind, dwell_s=300, confidence=1.0, zones=here)
        )
    if event_type == "zone.exited":
        data = ZoneExitedData(kind=zone_kind, entered_at=at - timedelta(minutes=5), duration_s=300, confidence=1.0,
                              via="gps", zones=[])  # fmt: skip
        return ZoneExited(**ids, zone_id=zone, data=data)
    order = OrderData(lines=[OrderLine(IN_STOCK, 1)], display_name=None)
    kind_of = {"order.reserved": OrderReserved, "order.ready": OrderReady, "order.collected": OrderCollected}
    return kind_of[event_type](**ids, order_id=f"ord_{tag}", data=order)


# ------------------------------------------------------------------------------------ the engine


@pytest.fixture
async def geo(db_url: str) -> AsyncIterator[RunningServices]:
    """geo alone on a socket: it answers where the devices are (nowhere it knows of)."""
    async with one_service(db_url, "geo") as run:
        yield run


@dataclasses.dataclass
class Engine:
    answering: NotifyContext
    """notify with geo up"""
    silent: NotifyContext
    """the same notify with geo unreachable: a branch on where the device is waits"""


@pytest.fixture
async def engine(db_url: str, notify_db: Database, geo: RunningServices) -> AsyncIterator[Engine]:
    closed = free_socket()
    nowhere = closed.getsockname()[1]
    closed.close()
    config = msgspec.structs.replace(TESTING_NOTIFY, consent_changes_per_hour=1000)
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0)) as http:

        def ctx(geo_port: int) -> NotifyContext:
            base = notify_context(settings_for(db_url, {"geo": geo_port}), notify_db, http)
            return NotifyContext(**base.parts(), config=config, policy=config.policy(), started=(Flows(),))

        async with notify_db.transaction() as conn:
            await replicas_repo.apply_store(conn, STORE, "Rivoli", "Europe/Paris", 1)
            for sku, name, available in ((IN_STOCK, "Plain yoghurt", 3), (SOLD_OUT, "Greek yoghurt", 0),
                                         (ALTERNATIVE, "Organic yoghurt", 2)):  # fmt: skip
                await replicas_repo.apply_product(conn, sku, name, "dairy", {}, 1)
                await replicas_repo.apply_stock(conn, STORE, sku, available, available, 1)
        engine = Engine(answering=ctx(geo.ports["geo"]), silent=ctx(nowhere))
        # Seen first: geo answers one (it knows of no device here) and not the other.
        assert await runner.zones_where(engine.answering, "dev_anyone") == frozenset()
        assert await runner.zones_where(engine.silent, "dev_anyone") is None
        yield engine


async def run_until_settled(ctx: NotifyContext, now: datetime) -> None:
    """Runner rounds at `now` until nothing is due then: a round that keeps finding work is a livelock."""
    for _ in range(10):
        if not await runner.run_due(ctx, now=now):
            return
    raise AssertionError(f"enrollments still due at {now} after 10 rounds")


async def consent_event(db: asyncpg.Connection, device_id: str, after: int) -> Event | None:
    """The `consent.changed` the answer published, if it changed anything."""
    ids = await db.fetch(
        "SELECT id FROM bus.events WHERE device_id = $1 AND type = 'consent.changed' AND id > $2", device_id, after
    )
    found = await bus.events_by_id(db, [r["id"] for r in ids])
    assert len(found) <= 1
    return found[0] if found else None


async def answer(ctx: NotifyContext, db: asyncpg.Connection, device_id: str, purposes: dict[str, bool]) -> None:
    """The device answers, as through PUT /v1/devices/{id}/consents; then the journeys hear of it."""
    last = await db.fetchval("SELECT coalesce(max(id), 0) FROM bus.events")
    await answer_consents(
        ctx, device_id, msgspec.convert({"policy_version": "v1", "purposes": purposes}, ConsentPut), None
    )
    event = await consent_event(db, device_id, last)
    if event is not None:
        async with ctx.db.transaction() as conn:
            await on_device_event(conn, event, ctx)


def targets(step: Step) -> list[str | None]:
    if isinstance(step, WaitStep | MessageStep):
        return [step.next]
    if isinstance(step, WaitForStep):
        return [step.next, step.timeout_next]
    if isinstance(step, BranchStep):
        return [step.then, step.else_]
    return []


def may_end_at(step: Step) -> bool:
    """A walk may end here as `completed`: an exit, or a step with a way out that leads nowhere."""
    return isinstance(step, ExitStep) or None in targets(step)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenario=scenarios())
async def test_any_journey_and_any_events_leave_a_trail_that_agrees_with_how_each_device_left(
    engine: Engine, db: asyncpg.Connection, scenario: Scenario
) -> None:
    ctx = engine.answering
    example = uuid.uuid4().hex[:8]  # each example has journeys of its own in the shared database
    flows: dict[str, Flow] = {}
    for i, plan in enumerate(scenario.journeys):
        journey_id = f"j{i}_{example}"
        flows[journey_id] = check(document(plan))  # valid by construction
        for _ in range(2):  # saved again unchanged: the same version
            saved = await journey_service.save_journey(ctx, journey_id, msgspec.convert(plan, JourneyPut))
            assert saved.version == 1

    devices: list[str] = []
    for i, answered in enumerate(scenario.consents):
        created = await register_device(
            ctx, DeviceCreate(platform="web", locale="en", timezone="Europe/Paris"), "127.0.0.1"
        )
        devices.append(created.device_id)
        if scenario.subscribed[i]:
            async with ctx.db.transaction() as conn:
                target = Target("webpush", f"https://push.example/{created.device_id}", p256dh="p", auth="a")
                await outbox_repo.save_target(conn, Addressee("device", created.device_id), target)
        await answer(ctx, db, created.device_id, answered)

    had: dict[str, list[str]] = {d: [] for d in devices}  # event types each device had
    withdrew: dict[str, set[str]] = {d: set() for d in devices}  # purposes each device withdrew
    now = datetime.now(UTC)
    for n, happening in enumerate(scenario.happenings):
        if happening[0] == "time":
            _, seconds, geo_up = happening
            now += timedelta(seconds=seconds)
            await run_until_settled(engine.answering if geo_up else engine.silent, now)
            continue
        device_id = devices[happening[1] % len(devices)]
        if happening[0] == "consent":
            purposes = happening[2]
            withdrew[device_id] |= {p for p, given in purposes.items() if not given}
            await answer(ctx, db, device_id, purposes)
            continue
        _, _, event_type, zone_kind = happening
        async with ctx.db.transaction() as conn:
            source = "geo" if event_type in ZONE_EVENTS else "inventory"
            [event] = await bus.publish(
                conn, source, [device_event(f"{example}_{n}", device_id, event_type, zone_kind, now)]
            )
        async with ctx.db.transaction() as conn:
            await on_device_event(conn, event, ctx)
        had[device_id].append(event_type)

    for _ in range(3):  # long enough for every wait and timeout drawn (an hour at most) to be over
        now += timedelta(hours=2)
        await run_until_settled(engine.answering, now)
    before_the_end = await db.fetch(
        """
        SELECT journey_id, step, ran, wake_at, awaiting, exit_reason
        FROM notify.enrollments WHERE journey_id = ANY ($1::text[])
        """,
        list(flows),
    )
    assert all(r["exit_reason"] != "journey_ended" for r in before_the_end)
    for r in (r for r in before_the_end if r["exit_reason"] is None):
        # Still in it hours after any wait drawn (geo answering the last rounds): it loops through a
        # wait, parked there and due again within the hour.
        step = flows[r["journey_id"]].steps[r["step"]]
        assert r["ran"] and isinstance(step, WaitStep | WaitForStep), dict(r)
        assert r["wake_at"] is not None and now < r["wake_at"] <= now + timedelta(hours=1), dict(r)
        assert r["awaiting"] == (step.event if isinstance(step, WaitForStep) else None), dict(r)
    for journey_id in flows:
        await journey_service.end_journey(ctx, journey_id)

    enrollments = await db.fetch(
        """
        SELECT enrollment_id, journey_id, version, device_id, arm, step, exited_at, exit_reason
        FROM notify.enrollments WHERE journey_id = ANY ($1::text[]) ORDER BY enrollment_id
        """,
        list(flows),
    )
    reached_rows = await db.fetch(
        """
        SELECT s.enrollment_id, s.step FROM notify.enrollment_steps s JOIN notify.enrollments e USING (enrollment_id)
        WHERE e.journey_id = ANY ($1::text[])
        """,
        list(flows),
    )
    message_rows = await db.fetch(
        """
        SELECT enrollment_id, journey_id, journey_step, device_id, purpose, status, reason
        FROM notify.messages WHERE journey_id = ANY ($1::text[])
        """,
        list(flows),
    )
    reached: dict[int, set[str]] = {}
    for r in reached_rows:
        reached.setdefault(r["enrollment_id"], set()).add(r["step"])
    said: dict[int, Counter[str]] = {}
    for m in message_rows:
        said.setdefault(m["enrollment_id"], Counter())[m["journey_step"]] += 1

    by_id = {e["enrollment_id"]: e for e in enrollments}
    for m in message_rows:  # every message is of an enrollment of its journey and device
        e = by_id[m["enrollment_id"]]
        assert (m["journey_id"], m["device_id"]) == (e["journey_id"], e["device_id"])
        if e["arm"] == "control" and m["purpose"] != "pickup_updates":
            assert m["status"] == "suppressed", m  # the control arm is never told anything else

    for e in enrollments:
        flow = flows[e["journey_id"]]
        steps, got = flow.steps, reached.get(e["enrollment_id"], set())
        where = (dict(e), sorted(got), dict(said.get(e["enrollment_id"], {})))
        assert e["version"] == 1
        assert e["exited_at"] is not None and e["exit_reason"] in EXIT_REASONS - {"erased"}, where
        assert e["device_id"] in devices and flow.entry.event in had[e["device_id"]], where
        if flow.holdout_percent == 0:
            assert e["arm"] == "treatment"
        # The steps reached are a walk from the first: each one after it is led to by one reached.
        assert got <= set(steps) and e["step"] in steps, where
        assert not got or flow.first in got, where
        assert all(s == flow.first or any(s in targets(steps[p]) for p in got) for s in got), where
        # Every message step reached said exactly one message (a loop back to it says nothing again).
        message_steps = {s for s in got if isinstance(steps[s], MessageStep)}
        assert set(said.get(e["enrollment_id"], {})) == message_steps, where
        assert all(n == 1 for n in said.get(e["enrollment_id"], {}).values()), where
        # How it left agrees with what it reached and what the device did.
        exits_reached = [s for s in got if isinstance(steps[s], ExitStep)]
        assert len(exits_reached) <= 1, where
        if exits_reached:
            assert (e["exit_reason"], e["step"]) == ("completed", exits_reached[0]), where
        if e["exit_reason"] == "completed":
            assert e["step"] in got and may_end_at(steps[e["step"]]), where
        elif e["exit_reason"] == "exit_event":
            assert flow.exit_on & set(had[e["device_id"]]), where
        elif e["exit_reason"] == "consent_withdrawn":
            assert flow.purposes & withdrew[e["device_id"]], where

    import sys

    print(
        "STATS",
        len(enrollments),
        Counter(e["exit_reason"] for e in enrollments),
        Counter((m["status"], m["reason"]) for m in message_rows),
        len(reached_rows),
        Counter(e["arm"] for e in enrollments),
        file=sys.stderr,
    )
    # Never two messages for one enrollment and step, whatever the journeys did.
    assert all(n == 1 for c in said.values() for n in c.values())

    # The results add up to the same trail.
    for journey_id in flows:
        mine = [e for e in enrollments if e["journey_id"] == journey_id]
        results = await journey_service.results(ctx, journey_id, None, None)
        assert results.entered == {a: sum(e["arm"] == a for e in mine) for a in ("treatment", "control")}
        assert results.exits == dict(Counter(e["exit_reason"] for e in mine)) and results.now == {}
        ids = {e["enrollment_id"] for e in mine}
        for step_id, counted in results.steps.items():
            assert counted.reached == sum(step_id in reached.get(i, ()) for i in ids)
            if counted.sent is not None:
                total = counted.sent + (counted.pending or 0) + (counted.failed or 0)
                assert total + sum((counted.suppressed or {}).values()) == sum(
                    said.get(i, {}).get(step_id, 0) for i in ids
                )


async def test_a_step_that_fails_waits_and_holds_up_no_other_device(engine: Engine, db: asyncpg.Connection) -> None:
    ctx = engine.answering
    journey_id = f"stall_{uuid.uuid4().hex[:8]}"
    plan = {
        "name": "Stall",
        "entry": {"event": "zone.entered"},
        "steps": [{"id": "look", "type": "wait", "for": "PT1S", "next": "end"}, {"id": "end", "type": "exit"}],
    }
    await journey_service.save_journey(ctx, journey_id, msgspec.convert(plan, JourneyPut))
    now = datetime.now(UTC)
    devices = []
    for n in range(2):
        created = await register_device(ctx, DeviceCreate(platform="web", locale="en", timezone="UTC"), "127.0.0.1")
        devices.append(created.device_id)
        await answer(ctx, db, created.device_id, {"location": True})
        async with ctx.db.transaction() as conn:
            [event] = await bus.publish(
                conn, "geo", [device_event(f"{journey_id}_{n}", created.device_id, "zone.entered", "store", now)]
            )
        async with ctx.db.transaction() as conn:
            await on_device_event(conn, event, ctx)
    # A bad row (as a bug would leave it): the first device's enrollment is at a step its flow lacks.
    await db.execute(
        "UPDATE notify.enrollments SET step = 'gone', ran = false WHERE device_id = $1 AND journey_id = $2",
        devices[0],
        journey_id,
    )

    for seconds in (2, 4):  # the first round runs `look`, the second its end
        await runner.run_due(ctx, now=now + timedelta(seconds=seconds))
    rows = {
        r["device_id"]: r
        for r in await db.fetch(
            "SELECT device_id, step, wake_at, exit_reason FROM notify.enrollments WHERE journey_id = $1", journey_id
        )
    }
    assert rows[devices[1]]["exit_reason"] == "completed"
    bad = rows[devices[0]]
    assert bad["exit_reason"] is None and bad["step"] == "gone"
    assert bad["wake_at"] == now + timedelta(seconds=2) + runner.FAILED_STEP_PAUSE  # not tried in the second round
