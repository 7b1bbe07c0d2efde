"""A journey's dry run: each device's stored history walked through the journey. Pure: history in,
counts out.

Each device is replayed on its own (what one device is said never changes another's decisions), its
events and consent answers in the order notify had them, with the journey's timers between them:

- an event of the entry type, at the entry's store and zone, enters the device if the journey is
  active (a paused one lets nobody in), the device is not in it already, re-entry allows it, and the
  schedule's hours (the store's time) hold; its arm is the one the journey would draw for it (given);
- an `exit_on` event makes it leave (`exit_event`); an awaited event moves a `wait_for` on; a `wait` or
  a `wait_for`'s timeout falls due at its time; withdrawing `location` or a message step's purpose,
  once granted, makes it leave (`consent_withdrawn`);
- each walk is flow.walk, and each message step is decided by journeys/decide.py with what was true at
  that moment (as simulate.py reads it: consent, earlier messages and the dry run's own, stock);
- a branch on the device's zone reads the zones its own zone events left it in.

Timers that would fall due after the history's end are not run: devices still in the journey then are
counted in `entered`, not in `exits`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from services.notify.dry_run.simulate import Device, Shelf, in_the_morning
from services.notify.journeys.arms import Arm
from services.notify.journeys.decide import StepMessage, decide_step, moment_of
from services.notify.journeys.flow import ORDER_EVENTS, Facts, Flow, walk
from services.notify.journeys.schemas import MessageStep
from services.notify.policy.decide import Past, Policy
from services.notify.policy.purposes import OFFERS

ZoneAt = tuple[str, str, str]
"""(store_id, kind, zone_id)"""


@dataclass(frozen=True)
class Happening:
    """One of the device's events in the log."""

    event_id: int
    type: str
    store_id: str | None
    zone_id: str | None
    zone_kind: str | None
    skus: frozenset[str]
    """An order event's products."""
    published_at: datetime


@dataclass(frozen=True)
class Walker:
    """A device and its history."""

    device: Device
    arm: Arm
    happenings: tuple[Happening, ...]
    requests: frozenset[tuple[str, str]] = frozenset()
    """(store_id, sku) of its open back-in-stock requests."""


@dataclass(frozen=True)
class Plan:
    """The journey as the dry run walks it."""

    flow: Flow
    active: bool
    timezones: Mapping[str, str]
    shelf: Shelf


@dataclass
class StepTally:
    reached: int = 0
    sent: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)


@dataclass
class Tally:
    events: int = 0
    """Entry events of the devices replayed (whether or not they entered on them)."""
    devices: set[str] = field(default_factory=set)
    """Devices that entered."""
    entered: dict[str, int] = field(default_factory=lambda: {"treatment": 0, "control": 0})
    messages: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)
    steps: dict[str, StepTally] = field(default_factory=dict)
    exits: dict[str, int] = field(default_factory=dict)


@dataclass
class _In:
    """Where a device is in the journey."""

    store_id: str | None
    entry_event_id: int
    step: str
    ran: bool
    wake_at: datetime | None
    awaiting: str | None
    granted: frozenset[str]
    seen: set[str] = field(default_factory=set)


class _Replay:
    def __init__(self, plan: Plan, policy: Policy, device_id: str, walker: Walker, tally: Tally) -> None:
        self.plan, self.policy, self.device_id, self.walker, self.tally = plan, policy, device_id, walker, tally
        self.here: set[ZoneAt] = set()
        self.said: list[Past] = []
        self.inside: _In | None = None
        self.left_at: datetime | None = None

    def run(self, until: datetime) -> None:
        # An answer and an event at the same moment: the answer first, as notify recorded it first.
        timeline: list[tuple[datetime, int, Happening | None, Mapping[str, bool] | None]] = [
            (h.published_at, h.event_id, h, None) for h in self.walker.happenings
        ]
        timeline += [(at, -1, None, purposes) for at, purposes in self.walker.device.answers]
        for at, _, happening, answer in sorted(timeline, key=lambda t: (t[0], t[1])):
            if at > until:
                break
            self._timers(at)
            if answer is not None:
                self._consent(at, answer)
            elif happening is not None:
                self._event(at, happening)
        self._timers(until)

    # --- what moves a device ---

    def _timers(self, until: datetime) -> None:
        while self.inside is not None and self.inside.wake_at is not None and self.inside.wake_at <= until:
            at, step = self.inside.wake_at, self.inside.step
            self._walk(self.plan.flow.after_parking(step), at)

    def _consent(self, at: datetime, answer: Mapping[str, bool]) -> None:
        if self.inside is None:
            return
        if any(not answer.get(p, False) for p in self.inside.granted):
            self._leave("consent_withdrawn", at)
        else:
            self.inside.granted = frozenset(p for p in self.plan.flow.purposes if answer.get(p, False))

    def _event(self, at: datetime, h: Happening) -> None:
        flow = self.plan.flow
        if h.zone_kind is not None and h.store_id is not None and h.zone_id is not None:
            where = (h.store_id, h.zone_kind, h.zone_id)
            (self.here.discard if h.type == "zone.exited" else self.here.add)(where)
        was_in = self.inside is not None
        if self.inside is not None:
            if h.type in flow.exit_on:
                self._leave("exit_event", at)
            else:
                self.inside.seen.add(h.type)
                here = h.type in ORDER_EVENTS or self.inside.store_id is None or self.inside.store_id == h.store_id
                if self.inside.ran and self.inside.awaiting == h.type and here:
                    self._walk(flow.after_event(self.inside.step), at)
        if h.type == flow.entry.event:
            self._enter(at, h, was_in)

    def _enter(self, at: datetime, h: Happening, was_in: bool) -> None:
        flow = self.plan.flow
        if not flow.enters_on(h.type, h.store_id, h.zone_kind, h.zone_id, h.skus):
            return
        self.tally.events += 1
        if was_in or not self.plan.active:
            return  # never while it is still in the journey (as of before this event); none while paused
        if self.left_at is not None and (flow.reentry is None or at < self.left_at + flow.reentry):
            return
        if flow.schedule is not None:
            tz = ZoneInfo(self.plan.timezones.get(h.store_id or "", "UTC"))
            if not flow.schedule.within(at.astimezone(tz)):
                return
        consents = self.walker.device.consents_at(at)
        granted = frozenset(p for p in flow.purposes if consents.get(p, False))  # type: ignore[call-overload]
        self.inside = _In(h.store_id, h.event_id, flow.first, False, None, None, granted)
        self.tally.devices.add(self.device_id)
        self.tally.entered[self.walker.arm] += 1
        self._walk(flow.first, at)

    def _leave(self, reason: str, at: datetime) -> None:
        self.tally.exits[reason] = self.tally.exits.get(reason, 0) + 1
        self.inside, self.left_at = None, at

    # --- a walk ---

    def _walk(self, start: str | None, at: datetime) -> None:
        assert self.inside is not None
        state, plan = self.inside, self.plan
        store = state.store_id
        facts = Facts(
            zones_here=frozenset((kind, zone) for s, kind, zone in self.here if s == store),
            stock={sku: plan.shelf.available(store, sku, at) if store else 0 for sku in plan.flow.skus_in_conditions},
            consents=self.walker.device.consents_at(at),  # type: ignore[arg-type]  # Purpose keys are str
            seen=frozenset(state.seen),
        )
        walked = walk(plan.flow, start, state.step, facts)
        for step_id in walked.reached:
            self.tally.steps.setdefault(step_id, StepTally()).reached += 1
        for step_id in walked.messages:
            step = plan.flow.steps[step_id]
            assert isinstance(step, MessageStep)
            self._say(step, at)
        if walked.exit is not None:
            self._leave(walked.exit, at)
            return
        state.step, state.ran, state.awaiting = walked.step, walked.ran, walked.awaiting
        state.wake_at = at + walked.wake_after if walked.wake_after is not None else None

    def _say(self, step: MessageStep, at: datetime) -> None:
        assert self.inside is not None
        state, plan = self.inside, self.plan
        store = state.store_id
        product = alternative = None
        if step.sku is not None and store is not None:
            product = plan.shelf.product_at(store, step.sku, at)
            if step.purpose == OFFERS and (product is None or product.available <= 0):
                alternative = plan.shelf.best_alternative(store, step.sku, at)
        said = StepMessage(
            purpose=step.purpose,
            texts={locale: (m.title, m.body) for locale, m in step.message.items()},
            sku=step.sku,
            product=product,
            alternative=alternative,
            requested=store is not None and step.sku is not None and (store, step.sku) in self.walker.requests,
            arm=self.walker.arm,
        )
        moment = moment_of(state.entry_event_id, store, at, plan.timezones.get(store or "", "UTC"))
        decision = decide_step(said, self.walker.device.recipient(at, self.said), moment, self.policy)
        if decision.status != "suppressed":
            self.said.append(Past(state.entry_event_id, step.purpose, store, decision.sku, at))
        decision = in_the_morning(decision, step.purpose)
        counts = self.tally.steps.setdefault(step.id, StepTally())
        if decision.status == "pending":
            self.tally.messages += 1
            counts.sent += 1
        else:
            reason = decision.reason or "unknown"
            self.tally.suppressed[reason] = self.tally.suppressed.get(reason, 0) + 1
            counts.suppressed[reason] = counts.suppressed.get(reason, 0) + 1


def replay(plan: Plan, walkers: Mapping[str, Walker], until: datetime, policy: Policy) -> Tally:
    """What the journey would have done with each device, over its history up to `until`."""
    tally = Tally()
    for device_id in sorted(walkers):
        _Replay(plan, policy, device_id, walkers[device_id], tally).run(until)
    return tally
