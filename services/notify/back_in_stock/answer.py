"""Answering a back-in-stock request: what is said, and when. Pure: no I/O, no clock.

The shopper asked for this one message, so the request is its purpose: no `offers` consent is
needed, and it counts against no frequency cap (it is not a promotion, and it is said once per
request). Quiet hours still apply: a request made by day is not answered at 3 a.m., it is held until
they end. It is said only while the store can hand the product over, checked whenever the message is
due: when `stock.back_in_stock` is answered and again when quiet hours end.

In order, the first rule that refuses gives the reason recorded:

1. a push subscription to reach the device ........... `no_subscription`
2. the product still in stock at that store ........... `out_of_stock`
3. quiet hours: held until they end ................... `held`, reason `quiet_hours`

A refused answer leaves the request open for the next `stock.back_in_stock` (until it lapses).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.notify import catalogue
from services.notify.policy.decide import Decision, Policy, Recipient, quiet_until
from services.notify.policy.purposes import BACK_IN_STOCK
from services.notify.policy.why import Reasons, names_of
from services.notify.replicas.products import ProductInfo, StockLevel
from shared.events import StockBackInStock


def available_now(event: StockBackInStock, replica: StockLevel | None) -> int:
    """What the store can hand over as this event is answered. `replica`: notify's stock replica's
    level. The replica wins only if it has heard of a later change (the product sold out again before a
    late event was answered); otherwise the event's own figure, which a replica still behind it would
    understate."""
    if replica is not None and replica.event_id > event.id:
        return replica.available
    return event.data.after


def answer(
    sku: str, product: ProductInfo | None, available: int, who: Recipient, now: datetime, policy: Policy
) -> Decision:
    """The message answering a request for `sku` (`product`: None if notify does not know it), with
    `available` units at the store now."""
    if not who.subscribed:
        return Decision("suppressed", "no_subscription", sku=sku)
    if product is None or available < 1:
        return Decision("suppressed", "out_of_stock", sku=sku)
    locale = catalogue.locale_of(who.locale)
    title, body = (
        catalogue.say(locale, "messages.back_in_stock.title"),
        catalogue.say(locale, "messages.back_in_stock.body"),
    )
    draft = Decision(
        "pending", sku=sku, locale=locale, title=title, body=body.replace("{product}", product.name_in(locale))
    )
    quiet_end = quiet_until(now.astimezone(ZoneInfo(who.timezone)), policy.quiet_start, policy.quiet_end)
    if quiet_end is not None:
        return replace(draft, status="held", reason="quiet_hours", send_after=quiet_end.astimezone(UTC))
    return draft


def answer_reasons(
    product: ProductInfo | None,
    store: str,
    requested_at: datetime,
    timezone: str,
    journey: str | None = None,
    step: str | None = None,
) -> Reasons:
    """What led to the answer (policy/why.py): the shopper's own request, the day they made it (in
    their time zone), and the product back at that store."""
    return Reasons(
        purpose=BACK_IN_STOCK,
        store=store,
        product=names_of(product),
        asked_on=requested_at.astimezone(ZoneInfo(timezone)).date(),
        journey=journey,
        step=step,
    )
