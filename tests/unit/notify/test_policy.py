"""The policy every message follows: the device's language, consent and a way to reach it, nothing
twice; caps for offers only, quiet hours for offers and product tips; pickup updates are said at any
hour."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.notify.policy.decide import (
    Decision,
    Policy,
    decide_pickup,
    over_cap,
    pick_locale,
    quiet_until,
    settle,
)
from services.notify.policy.purposes import OFFERS, PICKUP_UPDATES, PRODUCT_TIPS
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


NOON = datetime(2026, 11, 24, 12, 0, tzinfo=PARIS)
TIP = Decision("pending", sku="COMPOST-40L", locale="fr", title="Votre compost", body="Étalez-le en fine couche")


def test_a_product_tip_at_night_is_held_until_quiet_hours_end() -> None:
    night = datetime(2026, 11, 24, 22, 30, tzinfo=PARIS)
    d = settle(PRODUCT_TIPS, TIP, shopper(), at(night), POLICY)
    assert (d.status, d.reason, d.body) == ("held", "quiet_hours", TIP.body)
    assert d.send_after == datetime(2026, 11, 25, 8, 0, tzinfo=PARIS).astimezone(UTC)


def test_a_product_tip_is_not_capped_by_the_offers_said_before() -> None:
    # The day's and the week's offers all used up at this store: an offer would be capped, a tip is not.
    busy = shopper(recent=tuple(said(f"P{i}", NOON - timedelta(minutes=i), event_id=i) for i in range(5)))
    assert settle(OFFERS, replace(TIP, sku="YOG-1"), busy, at(NOON), POLICY).reason == "frequency_cap"
    assert settle(PRODUCT_TIPS, TIP, busy, at(NOON), POLICY) == TIP


def test_product_tips_use_up_no_offer() -> None:
    tips = tuple(said(f"P{i}", NOON - timedelta(minutes=i), purpose=PRODUCT_TIPS, event_id=i) for i in range(5))
    assert not over_cap(tips, "rivoli", NOON, POLICY)
    d = settle(OFFERS, replace(TIP, sku="YOG-1"), shopper(recent=tips), at(NOON), POLICY)
    assert d.status == "pending"


def test_the_same_tip_at_the_same_store_the_same_day_is_a_duplicate() -> None:
    told = said(TIP.sku, NOON - timedelta(hours=3), purpose=PRODUCT_TIPS)
    d = settle(PRODUCT_TIPS, TIP, shopper(recent=(told,)), at(NOON), POLICY)
    assert (d.status, d.reason, d.sku, d.body) == ("suppressed", "duplicate", TIP.sku, None)
    # Another product, another store, the next day, or an offer of the same product: not the same tip.
    seeds = replace(TIP, sku="SEEDS-1")
    assert settle(PRODUCT_TIPS, seeds, shopper(recent=(told,)), at(NOON), POLICY) == seeds
    assert settle(PRODUCT_TIPS, TIP, shopper(recent=(told,)), at(NOON, store="opera"), POLICY) == TIP
    tomorrow = at(NOON + timedelta(days=1))
    assert settle(PRODUCT_TIPS, TIP, shopper(recent=(told,)), tomorrow, POLICY) == TIP
    offered = said(TIP.sku, NOON - timedelta(hours=3), purpose=OFFERS)
    assert settle(PRODUCT_TIPS, TIP, shopper(recent=(offered,)), at(NOON), POLICY) == TIP


@given(
    who=recipients,
    moment=moments,
    recent=st.lists(st.tuples(st.sampled_from([OFFERS, PRODUCT_TIPS]), st.sampled_from(["A", "B", "C"]))),
)
def test_a_product_tip_is_never_capped_and_never_said_in_quiet_hours(who, moment, recent):
    pasts = (said(s, moment.now, purpose=p, event_id=i) for i, (p, s) in enumerate(recent))
    who = replace(who, recent=tuple(pasts))
    d = settle(PRODUCT_TIPS, replace(TIP, sku="A"), who, moment, POLICY)
    assert d.reason != "frequency_cap"
    quiet = quiet_until(moment.now.astimezone(ZoneInfo(who.timezone)), POLICY.quiet_start, POLICY.quiet_end)
    if d.status == "pending":
        assert quiet is None
    if quiet is not None:
        assert d.status in ("held", "suppressed")
