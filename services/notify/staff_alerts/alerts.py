"""Pickup alerts: what staff and the shopper are told as a car comes in, in their language. Pure.

An alert is stored as facts (who, which order, which bay, the ETA when geo saw it); its words are
written when read, in the reader's language, so staff of one store may read it in French and English.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from functools import partial
from typing import Literal

import msgspec

from services.notify import catalogue
from services.notify.staff_alerts.schemas import Alert

AlertKind = Literal["approaching", "arrived"]
Outcome = Literal["completed", "canceled", "expired"]
OUTCOMES: tuple[Outcome, ...] = ("completed", "canceled", "expired")

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


class AlertRow(msgspec.Struct, kw_only=True):
    """An alert as stored, and as it travels from the replica that changed it to every live stream."""

    alert_id: int
    store_id: str
    trip_id: str
    kind: AlertKind
    event_id: int
    at: datetime
    created_at: datetime
    created_seq: int
    seq: int
    order_id: str | None = None
    device_id: str | None = None
    display_name: str | None = None
    bay: str | None = None
    mode: str | None = None
    eta_s: int | None = None
    distance_m: float | None = None
    acked_by: str | None = None
    acked_by_name: str | None = None
    acked_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: Outcome | None = None

    @property
    def status(self) -> Literal["open", "acked", "closed"]:
        """open (nobody has answered), acked (someone is on their way out), closed (the trip is over)."""
        if self.closed_at is not None:
            return "closed"
        return "acked" if self.acked_at is not None else "open"

    @property
    def expected_at(self) -> datetime | None:
        """When the car should pull in, for a countdown."""
        if self.kind != "approaching" or self.eta_s is None:
            return None
        return self.at + timedelta(seconds=self.eta_s)


def short_ref(order_id: str | None) -> str | None:
    """What staff read out at the counter: the order id's last 4 letters or digits, upper-cased."""
    if not order_id:
        return None
    return _NOT_ALNUM.sub("", order_id)[-4:].upper() or None


def minutes(eta_s: int) -> int:
    """An ETA said in whole minutes, never "0 min": a car 20 s away is "1 min away"."""
    return max(1, math.floor(eta_s / 60 + 0.5))


def staff_text(alert: AlertRow, locale: str) -> str:
    """ "Camille (order 8F3K) is 4 min away — bay 2", then "Camille has arrived — bay 2"."""
    chosen = catalogue.locale_of(locale)

    def word(key: str, **values: object) -> str:
        return catalogue.say(chosen, f"messages.staff.{key}", **values)

    who = alert.display_name or word("someone")
    bay = f" — {alert.bay}" if alert.bay else ""
    if alert.kind == "arrived":
        return f"{who} {word('arrived')}{bay}"
    ref = short_ref(alert.order_id)
    named = f"{who} ({word('order')} {ref})" if ref else who
    going = word("away", n=minutes(alert.eta_s)) if alert.eta_s is not None else word("coming")
    return f"{named} {going}{bay}"


def staff_push(alert: AlertRow, locale: str) -> tuple[str, str, str]:
    """(locale, title, body) of the Web Push a staff member gets for an alert."""
    chosen = catalogue.locale_of(locale)
    ref = short_ref(alert.order_id)
    title = (
        catalogue.say(chosen, "messages.staff.title", ref=ref)
        if ref
        else catalogue.say(chosen, "messages.staff.title_no_ref")
    )
    return chosen, title, staff_text(alert, chosen)


def _say_to_shopper(locale: catalogue.Locale, key: str, **values: object) -> str:
    return catalogue.say(locale, f"messages.shopper.{key}", **values)


def shopper_texts(
    step: Literal["ready", "arrived"], order_id: str | None, bay: str | None
) -> dict[str, tuple[str, str]]:
    """The shopper's pickup update in every language we write it in: locale -> (title, body)."""
    ref = short_ref(order_id)
    texts: dict[str, tuple[str, str]] = {}
    for locale in catalogue.LOCALES:
        say = partial(_say_to_shopper, locale)
        if step == "ready":
            body = say("ready", ref=ref) if ref else say("ready_no_ref")
        else:
            body = say("arrived", bay=bay) if bay else say("arrived_no_bay")
        texts[locale] = (say(f"{step}_title"), body)
    return texts


def answer(alert: AlertRow, locale: str) -> Alert:
    """The alert as staff read it, in their language."""
    return Alert(
        alert_id=alert.alert_id,
        store_id=alert.store_id,
        trip_id=alert.trip_id,
        kind=alert.kind,
        status=alert.status,
        text=staff_text(alert, locale),
        at=alert.at,
        created_at=alert.created_at,
        order_id=alert.order_id,
        order_ref=short_ref(alert.order_id),
        display_name=alert.display_name,
        bay=alert.bay,
        mode=alert.mode,
        eta_s=alert.eta_s,
        expected_at=alert.expected_at,
        distance_m=alert.distance_m,
        acked_by=alert.acked_by,
        acked_by_name=alert.acked_by_name,
        acked_at=alert.acked_at,
        closed_at=alert.closed_at,
        outcome=alert.outcome,
    )
