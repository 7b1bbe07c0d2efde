"""The policy every message follows: the device's language, consent and a way to reach it, nothing
twice, and for offers only, caps and quiet hours; pickup updates are said at any hour."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.notify.policy.decide import (
    Decision,
    Policy,
    decide_pickup,
    pick_locale,
    quiet_until,
    settle,
)
from services.notify.policy.purposes import OFFERS, PICKUP_UPDATES
from tests.support.recipients import at, moments, recipients, said, shopper

PARIS = ZoneInfo("Europe/Paris")
POLICY = Policy()


def test_locale_falls_back_to_the_language_then_english() -> None:
    assert pick_locale("fr-CA", {"fr": 1, "en": 1}) == "fr"
    assert pick_locale("de-DE", {"fr": 1, "en": 1}) == "en"
    assert pick_locale("de", {"es": 1}) == "es"


def test_quiet_window_boundaries() -> None:
    day = date(2026, 11, 24)

    def local(h: int, m: int = 0) -> datetime:
        return datetime.combine(day, time(h, m), tzinfo=PARIS)

    start, end = time(21), time(8)
    assert quiet_until(local(20, 59), start, end) is None
    assert quiet_until(local(21), start, end) == datetime.combine(day + timedelta(days=1), end, tzinfo=PARIS)
    assert quiet_until(local(7, 59), start, end) == local(8)
    assert quiet_until(local(8), start, end) is None
    assert quiet_until(local(2), time(1), time(6)) == local(6)  # a window within one day
    assert quiet_until(local(7), time(1), time(6)) is None


def test_a_pickup_update_is_neither_capped_nor_held_at_night() -> None:
    night = datetime(2026, 11, 24, 23, 0, tzinfo=PARIS)
    busy = shopper(recent=tuple(said(f"P{i}", night - timedelta(minutes=i)) for i in range(5)))
    draft = Decision("pending", sku="order-8F3K:ready", title="Votre commande est prête", body="Baie 2")
    assert settle(PICKUP_UPDATES, draft, busy, at(night), POLICY) == draft


@given(
    who=recipients,
    moment=moments,
    recent=st.lists(st.tuples(st.sampled_from([OFFERS, PICKUP_UPDATES]), st.sampled_from(["A", "order-1:ready"]))),
)
def test_pickup_updates_are_never_capped_or_held(who, moment, recent):
    pasts = (said(s, moment.now, purpose=p, event_id=i) for i, (p, s) in enumerate(recent))
    who = replace(who, recent=tuple(pasts))
    d = settle(PICKUP_UPDATES, Decision("pending", sku="order-1:ready", body="Ready"), who, moment, POLICY)
    assert d.status in ("pending", "suppressed") and d.reason in (None, "duplicate")


PICKUP_TEXTS = {"en": ("Your order is ready", "Order 8F3K is ready"), "fr": ("Votre commande est prête", "La 8F3K")}


def test_a_pickup_update_is_said_in_the_devices_language() -> None:
    d = decide_pickup(PICKUP_TEXTS, shopper())
    assert (d.status, d.locale, d.title) == ("pending", "fr", "Votre commande est prête")


def test_without_pickup_updates_consent_the_update_is_suppressed_without_its_text() -> None:
    d = decide_pickup(PICKUP_TEXTS, shopper(consents={"offers": True}))
    assert (d.status, d.reason, d.title, d.body) == ("suppressed", "no_consent", None, None)


def test_a_pickup_update_needs_a_subscription() -> None:
    assert decide_pickup(PICKUP_TEXTS, shopper(subscribed=False)).reason == "no_subscription"


@given(
    consented=st.booleans(),
    subscribed=st.booleans(),
    moment=moments,
    recent=st.lists(st.sampled_from(["A", "B"]), max_size=10),
)
def test_a_pickup_update_is_said_at_any_hour_whatever_was_said_before(consented, subscribed, moment, recent):
    who = shopper(
        consents={PICKUP_UPDATES: consented},
        subscribed=subscribed,
        recent=tuple(said(sku, moment.now, event_id=i) for i, sku in enumerate(recent)),
    )
    d = decide_pickup(PICKUP_TEXTS, who)
    assert d.status == ("pending" if consented and subscribed else "suppressed")
