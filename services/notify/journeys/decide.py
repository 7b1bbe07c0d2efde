"""Deciding a journey's message step for one device: pure, no I/O.

A journey's message is decided by the same rules as the message of its purpose elsewhere, then by
the journey's own:

- `offers`: as a campaign's offer (offers/decide.py): consent, the product or its best in-stock
  alternative, duplicates, frequency caps, quiet hours;
- `back_in_stock`: as the answer to the shopper's own open request for that product at that store
  (back_in_stock/answer.py); without one, `no_request`;
- `pickup_updates`: as a pickup update (consent, a way to reach the device, at any hour);
- `product_tips`: consent, duplicates and quiet hours (advice, not a promotion: no cap).

Then, in order: a paused journey says nothing (`paused`); the control arm is never said anything but
its pickup updates (`holdout`), logged as what would have been said so the arms can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.notify.back_in_stock.answer import answer, answer_reasons
from services.notify.journeys.arms import Arm
from services.notify.offers.decide import Offer, decide_offer, offer_reasons
from services.notify.policy.decide import Decision, Moment, Policy, Recipient, admit, decide_pickup, pick_locale, settle
from services.notify.policy.purposes import BACK_IN_STOCK, OFFERS, PICKUP_UPDATES, PRODUCT_TIPS
from services.notify.policy.why import Reasons, Zone, names_of
from services.notify.replicas.products import ProductInfo

NEVER_HELD_OUT = frozenset({PICKUP_UPDATES})
"""A pickup update tells a shopper about their own order: withholding it would harm, not measure."""


@dataclass(frozen=True)
class StepMessage:
    purpose: str
    texts: dict[str, tuple[str, str]]
    """locale -> (title, body), `{product}` standing for the product's name"""
    sku: str | None
    product: ProductInfo | None
    """The step's product at the store, as notify's replica has it (None: not known there)."""
    alternative: ProductInfo | None = None
    """For an offer whose product is out of stock: the best in-stock alternative."""
    requested: bool = False
    """For a back-in-stock message: the device has an open request for the product at the store."""
    arm: Arm = "treatment"
    paused: bool = False


def _named(texts: dict[str, tuple[str, str]], locale: str, product: ProductInfo | None) -> tuple[str, str]:
    title, body = texts[locale]
    if product is not None:
        name = product.name_in(locale)
        title, body = title.replace("{product}", name), body.replace("{product}", name)
    return title, body


def _said(step: StepMessage, who: Recipient, moment: Moment, policy: Policy) -> Decision:
    if step.purpose == OFFERS:
        assert step.sku is not None
        return decide_offer(Offer(step.texts, step.sku, step.product, step.alternative), who, moment, policy)
    if step.purpose == BACK_IN_STOCK:
        assert step.sku is not None
        if not step.requested:
            return Decision("suppressed", "no_request", sku=step.sku)
        available = step.product.available if step.product is not None else 0
        return answer(step.sku, step.product, available, who, moment.now, policy)
    if step.purpose == PICKUP_UPDATES:
        locale = pick_locale(who.locale, step.texts)
        decision = decide_pickup({locale: _named(step.texts, locale, step.product)}, who)
        return Decision(decision.status, decision.reason, step.sku, decision.locale, decision.title, decision.body)
    assert step.purpose == PRODUCT_TIPS
    refused = admit(PRODUCT_TIPS, who)
    if refused:
        return Decision("suppressed", refused, sku=step.sku)
    locale = pick_locale(who.locale, step.texts)
    title, body = _named(step.texts, locale, step.product)
    return settle(
        step.purpose, Decision("pending", sku=step.sku, locale=locale, title=title, body=body), who, moment, policy
    )


def decide_step(step: StepMessage, who: Recipient, moment: Moment, policy: Policy) -> Decision:
    if step.paused:
        return Decision("suppressed", "paused", sku=step.sku)
    decision = _said(step, who, moment, policy)
    if step.arm == "control" and step.purpose not in NEVER_HELD_OUT and decision.status != "suppressed":
        return decision.suppressed("holdout")
    return decision


@dataclass(frozen=True)
class StepPlace:
    """Where the journey's message is about: the store's name, the zone it was entered in if any, and the
    device's time zone (the day a back-in-stock request was made is read there)."""

    store: str
    zone: Zone | None
    timezone: str


def step_reasons(
    step: StepMessage,
    decision: Decision,
    place: StepPlace,
    journey: str,
    step_id: str,
    requested_at: datetime | None = None,
) -> Reasons:
    """What led to a journey's message (policy/why.py), as for a message of its purpose elsewhere, the
    journey and its step named."""
    if step.purpose == OFFERS:
        assert step.sku is not None
        offer = Offer(step.texts, step.sku, step.product, step.alternative)
        return offer_reasons(offer, decision, place.store, place.zone, journey=journey, step=step_id)
    if step.purpose == BACK_IN_STOCK and requested_at is not None:
        return answer_reasons(step.product, place.store, requested_at, place.timezone, journey=journey, step=step_id)
    return Reasons(
        purpose=step.purpose,
        store=place.store,
        zone=place.zone,
        product=names_of(step.product) if step.product is not None and step.product.available > 0 else None,
        journey=journey,
        step=step_id,
    )


def moment_of(entry_event_id: int, store_id: str | None, now: datetime, store_timezone: str) -> Moment:
    """A journey's step is decided now, about the visit or order it entered on."""
    return Moment(event_id=entry_event_id, store_id=store_id, now=now, store_timezone=store_timezone)
