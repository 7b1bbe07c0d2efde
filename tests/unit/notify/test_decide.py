"""An offer's decision: its campaign's own rules (paused, schedule, a recent and confident visit, the
product or an in-stock alternative), then the policy every message follows: consent first, a way to
reach the device, nothing twice, within the caps, never during quiet hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.notify.offers.decide import Offer, decide_offer
from services.notify.policy.decide import Moment, Policy
from services.notify.replicas.products import ProductInfo
from tests.support.recipients import at, moments, recipients, said, shopper

MESSAGES = {"fr": ("Bienvenue", "{product} à -20 %"), "en": ("Welcome", "{product} at 20% off")}
YOGHURT = ProductInfo("YOG-1", "Plain yoghurt", 3, {"fr": "Yaourt nature", "en": "Plain yoghurt"})
ORGANIC = ProductInfo("YOG-2", "Organic yoghurt", 2, {"fr": "Yaourt bio"})
PARIS = ZoneInfo("Europe/Paris")
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=PARIS)  # a Tuesday
POLICY = Policy()


def offer(product=YOGHURT, alternative=None, messages=MESSAGES) -> Offer:
    return Offer(messages, "YOG-1", product, alternative)


def test_an_in_stock_product_is_offered_in_the_devices_language() -> None:
    d = decide_offer(offer(), shopper(), at(NOON), POLICY)
    assert (d.status, d.sku, d.locale, d.body) == ("pending", "YOG-1", "fr", "Yaourt nature à -20 %")


def test_without_offers_consent_nothing_is_said() -> None:
    d = decide_offer(offer(), shopper(consents={"offers": False, "location": True}), at(NOON), POLICY)
    assert (d.status, d.reason, d.body) == ("suppressed", "no_consent", None)


def test_without_a_push_subscription_nothing_is_said() -> None:
    d = decide_offer(offer(), shopper(subscribed=False), at(NOON), POLICY)
    assert (d.status, d.reason, d.sku, d.body) == ("suppressed", "no_subscription", "YOG-1", None)


def test_consent_is_checked_before_the_subscription() -> None:
    d = decide_offer(offer(), shopper(consents={}, subscribed=False), at(NOON), POLICY)
    assert d.reason == "no_consent"


def test_a_visit_uploaded_long_after_it_happened_makes_no_offer() -> None:
    late = Moment(event_id=100, store_id="rivoli", now=NOON, happened_at=NOON - timedelta(hours=5))
    d = decide_offer(offer(), shopper(), late, POLICY)
    assert (d.status, d.reason) == ("suppressed", "expired")
    recent = Moment(event_id=100, store_id="rivoli", now=NOON, happened_at=NOON - timedelta(minutes=2))
    assert decide_offer(offer(), shopper(), recent, POLICY).status == "pending"


def test_out_of_stock_falls_back_to_the_alternative_with_its_own_name() -> None:
    gone = ProductInfo("YOG-1", "Plain yoghurt", 0)
    d = decide_offer(offer(gone, ORGANIC), shopper(locale="en-GB"), at(NOON), POLICY)
    assert (d.sku, d.body) == ("YOG-2", "Organic yoghurt at 20% off")


def test_nothing_in_stock_is_out_of_stock() -> None:
    d = decide_offer(offer(ProductInfo("YOG-1", "Plain", 0), None), shopper(), at(NOON), POLICY)
    assert (d.status, d.reason, d.sku) == ("suppressed", "out_of_stock", "YOG-1")


def test_a_campaign_text_that_does_not_name_the_product_is_not_reused_for_an_alternative() -> None:
    fixed = {"en": ("Yoghurt week", "Our plain yoghurt is back")}
    d = decide_offer(offer(ProductInfo("YOG-1", "Plain", 0), ORGANIC, fixed), shopper(locale="en"), at(NOON), POLICY)
    assert d.sku == "YOG-2" and "Organic yoghurt" in d.body and "plain" not in d.body.lower()


def test_a_language_without_a_text_falls_back_to_english_with_the_english_product_name() -> None:
    d = decide_offer(offer(), shopper(locale="de-AT"), at(NOON), POLICY)
    assert (d.locale, d.body) == ("en", "Plain yoghurt at 20% off")


def test_the_same_product_at_the_same_store_the_same_day_is_a_duplicate() -> None:
    policy = Policy(offers_per_store_day=5)
    d = decide_offer(offer(), shopper(recent=(said("YOG-1", NOON - timedelta(hours=2)),)), at(NOON), policy)
    assert (d.status, d.reason, d.sku, d.body) == ("suppressed", "duplicate", "YOG-1", None)


def test_the_same_product_the_next_local_day_is_not_a_duplicate() -> None:
    yesterday_evening = datetime(2026, 11, 23, 20, 0, tzinfo=PARIS)
    d = decide_offer(offer(), shopper(recent=(said("YOG-1", yesterday_evening),)), at(NOON), POLICY)
    assert d.status == "pending"


def test_a_second_offer_at_the_same_store_the_same_local_day_is_capped() -> None:
    d = decide_offer(offer(), shopper(recent=(said("OTHER", NOON - timedelta(hours=1)),)), at(NOON), POLICY)
    assert (d.status, d.reason) == ("suppressed", "frequency_cap")


def test_another_store_the_same_day_is_within_the_caps() -> None:
    d = decide_offer(offer(), shopper(recent=(said("OTHER", NOON, store="opera"),)), at(NOON), POLICY)
    assert d.status == "pending"


def test_the_fourth_offer_of_a_local_week_is_capped() -> None:
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
    recent = tuple(said(f"P{i}", monday + timedelta(hours=i), store=f"s{i}") for i in range(3))
    d = decide_offer(offer(), shopper(recent=recent), at(NOON), POLICY)
    assert (d.status, d.reason) == ("suppressed", "frequency_cap")


def test_the_week_is_counted_in_the_devices_time_zone() -> None:
    # Sunday 23:30 in Paris is already Monday in Tokyo: for a Tokyo device those offers were last week.
    sunday_night = datetime(2026, 11, 22, 23, 30, tzinfo=PARIS)
    recent = tuple(said(f"P{i}", sunday_night - timedelta(minutes=i), store=f"s{i}") for i in range(3))
    monday = datetime(2026, 11, 23, 12, 0, tzinfo=PARIS)
    assert decide_offer(offer(), shopper(recent=recent), at(monday), POLICY).status == "pending"
    tokyo = shopper(recent=recent, timezone="Asia/Tokyo")
    assert decide_offer(offer(), tokyo, at(monday), POLICY).reason == "frequency_cap"


def test_an_offer_at_night_is_held_until_quiet_hours_end() -> None:
    night = datetime(2026, 11, 24, 22, 30, tzinfo=PARIS)
    d = decide_offer(offer(), shopper(), at(night), POLICY)
    assert (d.status, d.reason, d.body) == ("held", "quiet_hours", "Yaourt nature à -20 %")
    assert d.send_after == datetime(2026, 11, 25, 8, 0, tzinfo=PARIS).astimezone(UTC)


def test_quiet_hours_are_the_devices_local_hours() -> None:
    afternoon_in_paris = datetime(2026, 11, 24, 15, 0, tzinfo=PARIS)  # 23:00 in Tokyo
    assert decide_offer(offer(), shopper(), at(afternoon_in_paris), POLICY).status == "pending"
    assert decide_offer(offer(), shopper(timezone="Asia/Tokyo"), at(afternoon_in_paris), POLICY).status == "held"


def test_equal_quiet_hour_bounds_mean_no_quiet_hours() -> None:
    night = datetime(2026, 11, 24, 23, 0, tzinfo=PARIS)
    d = decide_offer(offer(), shopper(), at(night), Policy(quiet_start=time(0), quiet_end=time(0)))
    assert d.status == "pending"


# --- properties ---

products = st.builds(
    ProductInfo,
    sku=st.sampled_from(["A", "B", "C"]),
    name=st.sampled_from(["Apple", "Banana", "Cherry"]),
    available=st.integers(-2, 3),
    names=st.just({}),
)


@given(who=recipients, product=st.none() | products, alternative=st.none() | products, moment=moments)
def test_no_offer_ever_names_an_unavailable_product_or_goes_without_consent(who, product, alternative, moment):
    d = decide_offer(Offer(MESSAGES, "A", product, alternative), who, moment, POLICY)
    if d.status in ("pending", "held"):
        assert who.consents["offers"] and who.subscribed
        offered = product if product is not None and d.sku == product.sku and product.available > 0 else alternative
        assert offered is not None and offered.available > 0 and offered.name in d.body
        for p in (product, alternative):
            if p is not None and p.available <= 0 and p.name != offered.name:
                assert p.name not in (d.title or "") + (d.body or "")
    else:
        assert d.status == "suppressed" and d.body is None and d.title is None


@given(
    visits=st.lists(
        st.tuples(
            st.integers(0, 21 * 24 * 60),  # minutes into three weeks
            st.sampled_from(["rivoli", "opera", "bastille"]),
            st.sampled_from(["A", "B", "C", "D"]),
        ),
        max_size=40,
    ),
    per_day=st.integers(0, 3),
    per_week=st.integers(0, 5),
    timezone=st.sampled_from(["Europe/Paris", "America/Los_Angeles", "Pacific/Kiritimati"]),
)
def test_caps_are_never_exceeded_whatever_the_visits(visits, per_day, per_week, timezone):
    policy = Policy(offers_per_store_day=per_day, offers_per_week=per_week, quiet_start=time(0), quiet_end=time(0))
    tz = ZoneInfo(timezone)
    who = shopper(timezone=timezone)
    start = datetime(2026, 3, 1, tzinfo=UTC)  # spans the spring clock change
    for i, (minutes, store, sku) in enumerate(sorted(visits)):
        now = start + timedelta(minutes=minutes)
        product = replace(YOGHURT, sku=sku, name=f"Product {sku}")
        d = decide_offer(Offer(MESSAGES, sku, product, None), who, at(now, store, event_id=i), policy)
        if d.status != "suppressed":
            who = who.remember(said(sku, now, store, event_id=i))
    offers = [(p.store_id, p.at.astimezone(tz)) for p in who.recent]
    for store, when in offers:
        same_day = [1 for s, w in offers if s == store and w.date() == when.date()]
        same_week = [1 for _, w in offers if w.isocalendar()[:2] == when.isocalendar()[:2]]
        assert len(same_day) <= per_day and len(same_week) <= per_week


@given(moment=moments, timezone=st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"]))
def test_a_held_offer_waits_for_the_end_of_the_window_and_never_longer(moment, timezone):
    d = decide_offer(offer(), shopper(timezone=timezone), moment, POLICY)
    local = moment.now.astimezone(ZoneInfo(timezone))
    in_window = local.time() >= POLICY.quiet_start or local.time() < POLICY.quiet_end
    assert (d.status == "held") == in_window
    if d.status == "held":
        assert moment.now < d.send_after <= moment.now + timedelta(hours=12)
        assert d.send_after.astimezone(ZoneInfo(timezone)).time() == POLICY.quiet_end


def test_a_campaign_asking_for_confidence_makes_no_offer_on_a_doubtful_visit() -> None:
    demanding = Offer(MESSAGES, "YOG-1", YOGHURT, None, min_confidence=0.9)
    doubtful = Moment(event_id=100, store_id="rivoli", now=NOON, confidence=0.7)
    sure = Moment(event_id=100, store_id="rivoli", now=NOON, confidence=0.95)
    assert (decide_offer(demanding, shopper(), doubtful, POLICY).reason) == "low_confidence"
    assert decide_offer(demanding, shopper(), sure, POLICY).status == "pending"
    assert decide_offer(offer(), shopper(), doubtful, POLICY).status == "pending"  # no minimum, no bar
