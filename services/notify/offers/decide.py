"""Deciding a campaign's offer to a shopper who walked in: pure, no I/O.

An offer is decided by the campaign's own rules first, then by the policy every message follows
(policy/decide.py); the first rule that refuses gives the reason recorded:

1. the campaign is paused ............................................ `paused`
2. the campaign's dates and hours, in the store's local time .......... `outside_schedule`
3. consent for offers, a push subscription (policy) .................. `no_consent`, `no_subscription`
4. the visit is recent: a batch of pings uploaded hours late makes no offer now ... `expired`
5. the zone event is as confident as the campaign asks ................ `low_confidence`
6. the product, else the best in-stock alternative .................... `out_of_stock`
7. duplicates, frequency caps and quiet hours (policy) ................ `duplicate`, `frequency_cap`, `held`
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from services.notify import catalogue
from services.notify.offers.schedule import Schedule
from services.notify.policy.decide import Decision, Moment, Policy, Recipient, admit, pick_locale, settle
from services.notify.policy.purposes import OFFERS
from services.notify.policy.why import Reasons, Zone, names_of
from services.notify.replicas.products import ProductInfo

OFFER_MOMENT = timedelta(minutes=15)
"""How long an offer is worth saying: it is about a visit in progress."""


@dataclass(frozen=True)
class Offer:
    messages: dict[str, tuple[str, str]]  # locale -> (title, body); "{product}" stands for its name
    sku: str
    product: ProductInfo | None
    alternative: ProductInfo | None
    min_confidence: float | None = None  # the campaign's: a less confident zone event makes no offer
    paused: bool = False
    schedule: Schedule | None = None


def decide_offer(offer: Offer, who: Recipient, moment: Moment, policy: Policy) -> Decision:
    """An offer is said only with the `offers` consent, about a product the store can hand over now."""
    if offer.paused:
        return Decision("suppressed", "paused", sku=offer.sku)
    if offer.schedule is not None and not offer.schedule.within(moment.now.astimezone(ZoneInfo(moment.store_timezone))):
        return Decision("suppressed", "outside_schedule", sku=offer.sku)
    refused = admit(OFFERS, who)
    if refused:
        return Decision("suppressed", refused, sku=offer.sku)
    if moment.happened_at is not None and moment.now - moment.happened_at > OFFER_MOMENT:
        return Decision("suppressed", "expired", sku=offer.sku)
    if offer.min_confidence is not None and (moment.confidence or 0.0) < offer.min_confidence:
        return Decision("suppressed", "low_confidence", sku=offer.sku)
    if offer.product is not None and offer.product.available > 0:
        chosen, substituted = offer.product, False
    elif offer.alternative is not None and offer.alternative.available > 0:
        chosen, substituted = offer.alternative, True
    else:
        return Decision("suppressed", "out_of_stock", sku=offer.sku)

    locale = pick_locale(who.locale, offer.messages)
    title, body = offer.messages[locale]
    if substituted and "{product}" not in title + body:
        # Never a text written for another product: the catalogue's own, naming the one offered.
        locale = catalogue.locale_of(who.locale)
        title = catalogue.say(locale, "messages.offer.alternative_title")
        body = catalogue.say(locale, "messages.offer.alternative_body")
    name = chosen.name_in(locale)
    draft = Decision(
        "pending",
        sku=chosen.sku,
        locale=locale,
        title=title.replace("{product}", name),
        body=body.replace("{product}", name),
    )
    return settle(OFFERS, draft, who, moment, policy)


def offer_reasons(
    offer: Offer,
    decision: Decision,
    store: str,
    zone: Zone | None,
    campaign: str | None = None,
    journey: str | None = None,
    step: str | None = None,
) -> Reasons:
    """What led to an offer (policy/why.py): the product, or the alternative sent for it."""
    substituted = decision.sku is not None and decision.sku != offer.sku
    return Reasons(
        purpose=OFFERS,
        store=store,
        zone=zone,
        product=names_of(offer.alternative if substituted else offer.product),
        replaced=names_of(offer.product) if substituted else None,
        campaign=campaign,
        journey=journey,
        step=step,
    )
