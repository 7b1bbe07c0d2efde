"""Why a message came, in the plain words the shopper reads beside it: pure, no I/O.

A decided message keeps a small record of what led to it (`Reasons`): where the device was (the
zone and the store, by name: never where on the map), which consent, what was in stock or which
alternative replaced what, which campaign or journey step, and how caps and quiet hours let it
through. `explain` writes it out once per locale of the catalogue (catalogue/<locale>/why.json),
so the message log can show it in either language and a push carries it in the message's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from services.notify.catalogue import LOCALES, Locale, locale_of, say
from services.notify.policy.decide import Decision
from services.notify.policy.purposes import BACK_IN_STOCK, FREQUENCY_CAPPED, HELD_IN_QUIET_HOURS, PICKUP_UPDATES

Names = Mapping[str, str]
"""A product's name by locale (`ProductInfo.name_in` for each of the catalogue's locales)."""

Pickup = Literal["ready", "arrived"]

ZONE_KINDS = frozenset({"store", "pickup", "department", "approach"})
"""The kinds a zone without a name is called by ("the pickup area"); any other reads as the store."""


@dataclass(frozen=True, kw_only=True)
class Zone:
    kind: str
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class Reasons:
    """What led to one message. Only what applies is set: an offer has a zone and a product, a
    back-in-stock answer the day it was asked for, a pickup update its step."""

    purpose: str
    store: str
    """The store's name (its id when notify has none)."""
    zone: Zone | None = None
    product: Names | None = None
    """What the message is about, as it was in stock."""
    replaced: Names | None = None
    """The product out of stock that `product` stands in for."""
    asked_on: date | None = None
    """A back-in-stock answer: the day the shopper asked, in their time zone."""
    pickup: Pickup | None = None
    campaign: str | None = None
    journey: str | None = None
    step: str | None = None
    held_until: datetime | None = None
    """When quiet hours ended for a held message, in the device's time zone."""


class Named(Protocol):
    """A product as the replicas know it (replicas.products.ProductInfo), by what the why reads of it."""

    def name_in(self, locale: str) -> str: ...


def names_of(product: Named | None) -> Names | None:
    """A product's name in each of the catalogue's locales."""
    return None if product is None else {locale: product.name_in(locale) for locale in LOCALES}


def explain(reasons: Reasons) -> dict[str, str]:
    """The why in every locale: {"en": ..., "fr": ...}."""
    return {locale: " ".join(_sentences(locale, reasons)) for locale in LOCALES}


def in_locale(why: Mapping[str, str] | None, locale: str | None) -> str | None:
    """The text a push carries: the why in the message's own language (`fr-CA` reads `fr`)."""
    if not why:
        return None
    return why.get(locale_of(locale))


def why_of(decision: Decision, reasons: Reasons, timezone: str) -> dict[str, str] | None:
    """The why a decided message is recorded with: none for a suppressed one (nothing was said); for a
    held one, when quiet hours end in the device's time zone (`timezone`)."""
    if decision.status == "suppressed":
        return None
    if decision.status == "held" and decision.send_after is not None:
        reasons = replace(reasons, held_until=decision.send_after.astimezone(ZoneInfo(timezone)))
    return explain(reasons)


def _sentences(locale: Locale, r: Reasons) -> list[str]:
    said: list[str] = []
    place = _place(locale, r)
    if place:
        said.append(place)
    said.append(_consent(locale, r))
    stock = _stock(locale, r)
    if stock:
        said.append(stock)
    if r.journey is not None:
        said.append(say(locale, "why.journey", journey=r.journey, step=r.step or ""))
    elif r.campaign:
        said.append(say(locale, "why.campaign", campaign=r.campaign))
    said.append(_timing(locale, r))
    return said


def _place(locale: Locale, r: Reasons) -> str | None:
    if r.pickup is not None or r.purpose == BACK_IN_STOCK:
        return None  # their own sentence names the store (and the pickup area)
    if r.zone is None:
        return say(locale, "why.zone_store", store=r.store)
    if r.zone.name:
        return say(locale, "why.zone_named", zone=r.zone.name, store=r.store)
    kind = r.zone.kind if r.zone.kind in ZONE_KINDS else "store"
    return say(locale, f"why.zone_{kind}", store=r.store)


def _consent(locale: Locale, r: Reasons) -> str:
    if r.purpose == BACK_IN_STOCK:
        product = _name(locale, r.product)
        asked = say(locale, "why.date", **_date_parts(locale, r.asked_on)) if r.asked_on else ""
        return say(locale, "why.consent_back_in_stock", date=asked, product=product, store=r.store)
    return say(locale, f"why.consent_{r.purpose}")


def _stock(locale: Locale, r: Reasons) -> str | None:
    if r.pickup is not None:
        return say(locale, f"why.pickup_{r.pickup}", store=r.store)
    if r.product is None:
        return None
    product = _name(locale, r.product)
    if r.purpose == BACK_IN_STOCK:
        return say(locale, "why.stock_back", product=product)
    if r.replaced is not None:
        return say(locale, "why.stock_alternative", wanted=_name(locale, r.replaced), product=product)
    return say(locale, "why.stock_in", product=product)


def _timing(locale: Locale, r: Reasons) -> str:
    if r.held_until is not None:
        return say(locale, "why.timing_held", time=r.held_until.strftime("%H:%M"))
    if r.purpose in FREQUENCY_CAPPED:
        return say(locale, "why.timing_capped")
    if r.purpose in HELD_IN_QUIET_HOURS or r.purpose == BACK_IN_STOCK:
        return say(locale, "why.timing_quiet")
    assert r.purpose == PICKUP_UPDATES, r.purpose
    return say(locale, "why.timing_any_hour")


def _name(locale: Locale, names: Names | None) -> str:
    if not names:
        return ""
    return names.get(locale) or next(iter(names.values()))


def _date_parts(locale: Locale, day: date) -> dict[str, object]:
    first = say(locale, "why.first_day") if day.day == 1 else day.day  # "1er décembre"
    return {"day": first, "month": say(locale, f"why.month_{day.month}"), "year": day.year}
