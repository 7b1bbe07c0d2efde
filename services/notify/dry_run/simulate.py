"""A campaign's dry run: what it would have done over a stored history. Pure: history in, counts out.

The history is replayed in the order notify decided it (each zone event when it was published: a
late upload was decided late, and may be `expired`), and every event the campaign's trigger matches
is decided by the very rules a live campaign follows (offers/decide.py, then policy/decide.py), with
what was true then:

- consent: the device's answer in force at that moment (its consent history);
- frequency caps and duplicates: the messages the message log says were said or held for the device
  before that moment, plus those the dry run itself would have said to it before (a cap is per device);
- stock: what the store could hand over then, the product's and its alternatives' (see `Shelf`);
- quiet hours: the device's time zone; the campaign's hours: the store's.

An offer decided in quiet hours is held in a live run, and sent in the morning only if the shopper is
still in the store (offers/held.py); a visit does not last the night, so the dry run counts it as the
release drops it: suppressed, `quiet_hours`. Like a live held offer, it still counts against the
device's caps until then.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.notify.offers.decide import Offer, decide_offer
from services.notify.offers.schedule import Schedule
from services.notify.policy.decide import Decision, Moment, Past, Policy, Recipient, admit
from services.notify.policy.purposes import OFFERS
from services.notify.replicas.products import ProductInfo
from shared.alternatives import Candidate, rank
from shared.events import PURPOSES, Purpose

RECENT = timedelta(days=8)
"""How far back caps and duplicates look, as a live decision does (outbox.service.RECENT_DAYS)."""


@dataclass(frozen=True)
class Trigger:
    type: str
    store_id: str | None = None
    zone_id: str | None = None
    zone_kind: str | None = None

    def matches(self, visit: Visit) -> bool:
        """Every condition the campaign sets holds (as offers.repository.campaigns_for selects)."""
        return (
            visit.type == self.type
            and (self.store_id is None or self.store_id == visit.store_id)
            and (self.zone_id is None or self.zone_id == visit.zone_id)
            and (self.zone_kind is None or self.zone_kind == visit.zone_kind)
        )


@dataclass(frozen=True)
class Campaign:
    trigger: Trigger
    sku: str
    messages: dict[str, tuple[str, str]]  # locale -> (title, body)
    min_confidence: float | None = None
    active: bool = True
    schedule: Schedule | None = None


@dataclass(frozen=True)
class Visit:
    """A zone event of the log."""

    event_id: int
    type: str
    device_id: str
    store_id: str | None
    zone_id: str | None
    zone_kind: str | None
    confidence: float | None
    happened_at: datetime
    published_at: datetime
    """When it reached the bus: when notify decided on it."""


@dataclass(frozen=True)
class Device:
    """A device notify knows, and its past."""

    locale: str
    timezone: str
    subscribed: bool
    answers: tuple[tuple[datetime, Mapping[str, bool]], ...] = ()
    """Its consent answers, oldest first: (when, purpose -> yes/no)."""
    said: tuple[Past, ...] = ()
    """What the message log holds as said or held for it (never the suppressed), oldest first."""

    def recipient(self, now: datetime, also_said: list[Past]) -> Recipient:
        """The device as a decision at `now` sees it: what was said to it before then, in the log and
        in `also_said` (by the dry run itself), within the caps' reach."""
        recent = sorted((p for p in (*self.said, *also_said) if now - RECENT < p.at <= now), key=lambda p: p.at)
        return Recipient(self.consents_at(now), self.locale, self.timezone, self.subscribed, tuple(recent))

    def consents_at(self, at: datetime) -> dict[Purpose, bool]:
        """The answer in force at that moment; before any, nothing is granted."""
        given: Mapping[str, bool] = {}
        for when, purposes in self.answers:
            if when > at:
                break
            given = purposes
        return {p: bool(given.get(p, False)) for p in PURPOSES}


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StockChange:
    at: datetime
    before: int
    after: int


@dataclass(frozen=True)
class Shelf:
    """What each store could hand over of each product, at any moment of the window.

    `changes` are the `stock.changed` events of the log since the window began, oldest first: the level
    at a moment is the `after` of the last change before it, else the `before` of the first change after
    it, else, for a product whose stock has not changed since, the level now (`now`, the replica). The
    log keeps every event of its retention period, which the window never exceeds, so this is the level
    as it was."""

    products: Mapping[str, Product]
    now: Mapping[tuple[str, str], int]
    changes: Mapping[tuple[str, str], tuple[StockChange, ...]] = field(default_factory=dict)

    def available(self, store_id: str, sku: str, at: datetime) -> int:
        changes = self.changes.get((store_id, sku), ())
        if not changes:
            return self.now.get((store_id, sku), 0)
        i = bisect.bisect_right([c.at for c in changes], at)
        return changes[i - 1].after if i > 0 else changes[0].before

    def product_at(self, store_id: str, sku: str, at: datetime) -> ProductInfo | None:
        product = self.products.get(sku)
        if product is None:
            return None
        return ProductInfo(product.sku, product.name, self.available(store_id, sku, at), product.names)

    def best_alternative(self, store_id: str, sku: str, at: datetime) -> ProductInfo | None:
        """As replicas.service.best_alternative ranks the replica, on the stock of that moment."""
        wanted = self.products.get(sku)
        if wanted is None:
            return None
        candidates = [
            Candidate(p.sku, p.name, p.category, self.available(store_id, p.sku, at))
            for p in self.products.values()
            if p.sku != sku and p.category == wanted.category
        ]
        ranked = rank(wanted.name, wanted.category, candidates, limit=1)
        if not ranked:
            return None
        best = self.products[ranked[0].sku]
        return ProductInfo(best.sku, best.name, ranked[0].available, best.names)


@dataclass(frozen=True)
class History:
    visits: tuple[Visit, ...]
    devices: Mapping[str, Device]
    """Devices notify knows (a device it never registered, or erased, is never decided about)."""
    shelf: Shelf
    timezones: Mapping[str, str]
    """Store -> IANA time zone (a store notify has not heard of: UTC)."""


@dataclass
class Outcome:
    events: int = 0
    """Zone events the trigger matched, of devices notify knows."""
    devices: set[str] = field(default_factory=set)
    messages: int = 0
    """Would have been sent."""
    alternatives: int = 0
    """Of those, about an in-stock alternative (the campaign's product was out of stock)."""
    suppressed: dict[str, int] = field(default_factory=dict)
    """Reason (as the message log names it) -> decisions."""

    def count(self, decision: Decision, sku: str) -> None:
        if decision.status == "pending":
            self.messages += 1
            self.alternatives += decision.sku != sku
            return
        reason = decision.reason or "unknown"
        self.suppressed[reason] = self.suppressed.get(reason, 0) + 1


def dry_run(campaign: Campaign, history: History, policy: Policy) -> Outcome:
    """What the campaign would have decided for each event of the history its trigger matches."""
    outcome = Outcome()
    said: dict[str, list[Past]] = {}
    for visit in sorted(history.visits, key=lambda v: (v.published_at, v.event_id)):
        device = history.devices.get(visit.device_id)
        if device is None or not campaign.trigger.matches(visit):
            continue
        outcome.events += 1
        outcome.devices.add(visit.device_id)
        now = visit.published_at
        mine = said.setdefault(visit.device_id, [])
        who = device.recipient(now, mine)
        moment = Moment(
            event_id=visit.event_id,
            store_id=visit.store_id,
            now=now,
            happened_at=visit.happened_at,
            confidence=visit.confidence,
            store_timezone=history.timezones.get(visit.store_id or "", "UTC"),
        )
        product = alternative = None
        if admit(OFFERS, who) is None and visit.store_id is not None:
            product = history.shelf.product_at(visit.store_id, campaign.sku, now)
            if product is None or product.available <= 0:
                alternative = history.shelf.best_alternative(visit.store_id, campaign.sku, now)
        offer = Offer(
            campaign.messages,
            campaign.sku,
            product,
            alternative,
            campaign.min_confidence,
            paused=not campaign.active,
            schedule=campaign.schedule,
        )
        decision = decide_offer(offer, who, moment, policy)
        if decision.status != "suppressed":  # said, or held: either counts against the caps
            mine.append(Past(visit.event_id, OFFERS, visit.store_id, decision.sku, now))
        outcome.count(in_the_morning(decision, OFFERS), campaign.sku)
    return outcome


def in_the_morning(decision: Decision, purpose: str) -> Decision:
    """A message held through quiet hours, as their end treats it: an offer is dropped `quiet_hours`
    (the visit it was about is over; see the module's docstring); a product tip or a back-in-stock
    answer is sent then."""
    if decision.status != "held":
        return decision
    return decision.suppressed("quiet_hours") if purpose == OFFERS else replace(decision, status="pending")
