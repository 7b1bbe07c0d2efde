"""A journey's flow: checked once when it is saved, then walked by a device. Pure: no I/O, no clock.

A device walks from a step through branches and messages until it reaches a `wait` or a `wait_for`
(it parks there until its time or its event) or the end (an `exit` step, or a step with no next).
Validation guarantees a walk ends: every loop passes through a wait, so between two parkings a device
visits each step at most once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec

from services.notify.journeys import durations
from services.notify.journeys.schemas import (
    BranchStep,
    ExitStep,
    JourneyDocument,
    JourneyEntry,
    MessageStep,
    Step,
    WaitForStep,
    WaitStep,
)
from services.notify.offers import schedule as schedules
from shared.errors import Invalid

ZONE_EVENTS = frozenset({"zone.entered", "zone.dwelled", "zone.exited"})
ORDER_EVENTS = frozenset({"order.reserved", "order.ready", "order.collected"})
NEEDS_SKU = frozenset({"offers", "back_in_stock"})
"""Message purposes about a product on the shelf: said only while it (or an alternative) is in stock."""
CONSENT_PURPOSES = frozenset({"offers", "pickup_updates", "product_tips"})
"""Message purposes with a consent of their own (a back-in-stock answer's consent is its request)."""
RETRY = timedelta(seconds=5)
"""A branch on where the device is waits this long when geo cannot say."""
COMPLETED = "completed"


@dataclass(frozen=True)
class Goal:
    event: str
    within: timedelta
    sku: str | None


@dataclass(frozen=True)
class Flow:
    """A journey version, checked and ready to walk."""

    entry: JourneyEntry
    steps: Mapping[str, Step]
    first: str
    reentry: timedelta | None
    """None: never again."""
    holdout_percent: int
    goal: Goal | None
    exit_on: frozenset[str]
    schedule: schedules.Schedule | None
    purposes: frozenset[str]
    """Consents whose withdrawal makes a device leave: `location`, and each message step's purpose."""
    asks_where: frozenset[str]
    """Steps from which a walk may reach a branch on the device's zone before it parks."""
    skus_in_conditions: frozenset[str]
    asks_consent: bool
    """A branch reads the device's consents (a walk needs them read first)."""

    def enters_on(
        self, event_type: str, store_id: str | None, zone_kind: str | None, zone_id: str | None, skus: frozenset[str]
    ) -> bool:
        """Does this event (of this type, at this store and zone, with these SKUs if an order) enter it?"""
        e = self.entry
        return (
            e.event == event_type
            and (e.store_id is None or e.store_id == store_id)
            and (e.zone_kind is None or e.zone_kind == zone_kind)
            and (e.zone_id is None or e.zone_id == zone_id)
            and (e.sku is None or e.sku in skus)
        )

    def converts_on(self, event_type: str, skus: frozenset[str]) -> bool:
        return (
            self.goal is not None and self.goal.event == event_type and (self.goal.sku is None or self.goal.sku in skus)
        )

    def after_parking(self, step_id: str) -> str | None:
        """Where a device parked at this wait goes when its time comes (a wait_for: its timeout)."""
        step = self.steps[step_id]
        if isinstance(step, WaitStep):
            return step.next
        if isinstance(step, WaitForStep):
            return step.timeout_next
        raise ValueError(f"step {step_id!r} does not park")

    def after_event(self, step_id: str) -> str | None:
        step = self.steps[step_id]
        assert isinstance(step, WaitForStep)
        return step.next


@dataclass(frozen=True)
class Facts:
    """What a walk may ask about the device, read just before it."""

    zones_here: frozenset[tuple[str, str]] | None
    """(kind, zone_id) of the zones of the enrollment's store the device is in now; None: unknown."""
    stock: Mapping[str, int]
    """SKU -> units the store can hand over, for the SKUs branches ask about."""
    consents: Mapping[str, bool]
    seen: frozenset[str]
    """Event types the device had since it entered."""


@dataclass(frozen=True)
class Walked:
    """Where a walk ended. `reached`: the steps run, in order; `messages`: the message steps among them."""

    reached: tuple[str, ...]
    messages: tuple[str, ...]
    step: str
    ran: bool
    """True: parked at `step` (a wait or wait_for that ran); False: `step` is to run after `wake_after`."""
    wake_after: timedelta | None = None
    awaiting: str | None = None
    exit: str | None = None


def walk(flow: Flow, start: str | None, at: str, facts: Facts) -> Walked:
    """Run steps from `start` (None: the previous step had no next; `at` is where the device is)."""
    reached: list[str] = []
    messages: list[str] = []
    current = start
    while current is not None:
        if current in reached:
            raise ValueError(f"step {current!r} reached twice without a wait: the flow was not checked")
        step = flow.steps[current]
        if isinstance(step, BranchStep) and step.if_.in_zone is not None and facts.zones_here is None:
            return Walked(tuple(reached), tuple(messages), current, ran=False, wake_after=RETRY)
        reached.append(current)
        if isinstance(step, WaitStep):
            return Walked(tuple(reached), tuple(messages), current, True, durations.parse(step.for_, ""))
        if isinstance(step, WaitForStep):
            wake = durations.parse(step.timeout, "")
            return Walked(tuple(reached), tuple(messages), current, True, wake, awaiting=step.event)
        if isinstance(step, ExitStep):
            return Walked(tuple(reached), tuple(messages), current, True, exit=COMPLETED)
        if isinstance(step, MessageStep):
            messages.append(current)
            current = step.next
        else:
            current = step.then if holds(step, facts) else step.else_
    last = reached[-1] if reached else at
    return Walked(tuple(reached), tuple(messages), last, True, exit=COMPLETED)


def holds(branch: BranchStep, facts: Facts) -> bool:
    condition = branch.if_
    if condition.in_zone is not None:
        wanted = condition.in_zone
        return any(
            (wanted.zone_kind is None or kind == wanted.zone_kind)
            and (wanted.zone_id is None or zone == wanted.zone_id)
            for kind, zone in facts.zones_here or ()
        )
    if condition.in_stock is not None:
        return facts.stock.get(condition.in_stock, 0) > 0
    if condition.consent is not None:
        return facts.consents.get(condition.consent, False)
    assert condition.had_event is not None
    return condition.had_event in facts.seen


# --- checking a document ---


def _targets(step: Step) -> list[tuple[str, str | None]]:
    """The steps a step leads to, with the name of the field that says so."""
    if isinstance(step, WaitStep | MessageStep):
        return [("next", step.next)]
    if isinstance(step, WaitForStep):
        return [("next", step.next), ("timeout_next", step.timeout_next)]
    if isinstance(step, BranchStep):
        return [("then", step.then), ("else", step.else_)]
    return []


def _check_step(i: int, step: Step) -> None:
    at = f"steps[{i}]"
    if isinstance(step, WaitStep):
        durations.parse(step.for_, f"{at}.for")
    elif isinstance(step, WaitForStep):
        durations.parse(step.timeout, f"{at}.timeout")
    elif isinstance(step, BranchStep):
        given = [k for k, v in msgspec.structs.asdict(step.if_).items() if v is not None]
        if len(given) != 1:
            raise Invalid("if holds exactly one of in_zone, in_stock, consent, had_event", field=f"{at}.if")
    elif isinstance(step, MessageStep):
        if step.purpose in NEEDS_SKU and step.sku is None:
            raise Invalid(f"a message of purpose {step.purpose} is about a product: give its sku", field=f"{at}.sku")
        if step.sku is None and any("{product}" in m.title + m.body for m in step.message.values()):
            raise Invalid("the message names {product}: give the sku it stands for", field=f"{at}.sku")


def _check_entry(doc: JourneyDocument) -> None:
    entry = doc.entry
    if entry.event not in ZONE_EVENTS:
        for name in ("zone_kind", "zone_id"):
            if getattr(entry, name) is not None:
                raise Invalid(f"{name} filters zone events only", field=f"entry.{name}")
    if entry.sku is not None and entry.event not in ORDER_EVENTS:
        raise Invalid("sku filters order events only", field="entry.sku")
    if doc.goal is not None:
        durations.parse(doc.goal.within, "goal.within")
        if doc.goal.sku is not None and doc.goal.event not in ORDER_EVENTS:
            raise Invalid("sku filters order events only", field="goal.sku")


def _loop_without_wait(steps: Mapping[str, Step]) -> str | None:
    """A step in a cycle of branches and messages only (a device would walk it forever), or None."""
    moving = {
        sid: [t for _, t in _targets(s) if t is not None]
        for sid, s in steps.items()
        if isinstance(s, BranchStep | MessageStep)
    }
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(sid: str) -> str | None:  # depth first; at most 50 steps deep
        if sid not in moving or sid in done:
            return None
        if sid in visiting:
            return sid
        visiting.add(sid)
        for target in moving[sid]:
            if (looping := visit(target)) is not None:
                return looping
        visiting.discard(sid)
        done.add(sid)
        return None

    for sid in moving:
        if (looping := visit(sid)) is not None:
            return looping
    return None


def _asks_where(steps: Mapping[str, Step]) -> frozenset[str]:
    """Steps from which a walk reaches a branch on the device's zone before it parks or ends."""
    asks = {sid for sid, s in steps.items() if isinstance(s, BranchStep) and s.if_.in_zone is not None}
    changed = True
    while changed:  # at most 50 steps: a fixpoint is cheap
        changed = False
        for sid, s in steps.items():
            if sid in asks or not isinstance(s, BranchStep | MessageStep):
                continue
            if any(t in asks for _, t in _targets(s)):
                asks.add(sid)
                changed = True
    return frozenset(asks)


def check(doc: JourneyDocument) -> Flow:
    """The flow of a journey document, or Invalid naming the path of the first thing wrong with it."""
    _check_entry(doc)
    reentry = None if doc.reentry == "never" else durations.parse(doc.reentry, "reentry")
    schedule = None
    if doc.schedule is not None:
        hours = msgspec.to_builtins(doc.schedule.hours or [])
        schedule = schedules.parse(doc.schedule.starts_at, doc.schedule.ends_at, hours)
    index: dict[str, int] = {}
    for i, step in enumerate(doc.steps):
        if step.id in index:
            raise Invalid(f"step id {step.id!r} is used twice", field=f"steps[{i}].id")
        index[step.id] = i
        _check_step(i, step)
    for i, step in enumerate(doc.steps):
        for name, target in _targets(step):
            if target is not None and target not in index:
                raise Invalid(f"no step has the id {target!r}", field=f"steps[{i}].{name}")
    steps = {s.id: s for s in doc.steps}
    reachable = {doc.steps[0].id}
    frontier = [doc.steps[0].id]
    while frontier:
        for _, target in _targets(steps[frontier.pop()]):
            if target is not None and target not in reachable:
                reachable.add(target)
                frontier.append(target)
    for i, step in enumerate(doc.steps):
        if step.id not in reachable:
            raise Invalid(f"step {step.id!r} cannot be reached from the first step", field=f"steps[{i}]")
    looping = _loop_without_wait(steps)
    if looping is not None:
        raise Invalid(f"step {looping!r} is in a loop with no wait or wait_for", field=f"steps[{index[looping]}]")
    purposes = {"location"} | {
        s.purpose for s in doc.steps if isinstance(s, MessageStep) and s.purpose in CONSENT_PURPOSES
    }
    goal = None
    if doc.goal is not None:
        goal = Goal(doc.goal.event, durations.parse(doc.goal.within, "goal.within"), doc.goal.sku)
    return Flow(
        entry=doc.entry,
        steps=steps,
        first=doc.steps[0].id,
        reentry=reentry,
        holdout_percent=doc.holdout_percent,
        goal=goal,
        exit_on=frozenset(doc.exit_on),
        schedule=schedule,
        purposes=frozenset(purposes),
        asks_where=_asks_where(steps),
        skus_in_conditions=frozenset(
            s.if_.in_stock for s in doc.steps if isinstance(s, BranchStep) and s.if_.in_stock is not None
        ),
        asks_consent=any(isinstance(s, BranchStep) and s.if_.consent is not None for s in doc.steps),
    )


def stored(document: dict[str, Any]) -> Flow:
    """A version as kept (checked when it was saved)."""
    return check(msgspec.convert(document, JourneyDocument))
