"""A journey's message step, decided for one device: by the rules of its purpose elsewhere (an offer
as a campaign's, a back-in-stock message as the answer to the shopper's request, a pickup update at
any hour, a product tip with its consent and outside quiet hours), then by the journey's own: a
paused journey says nothing, and the control arm is told nothing but its pickup updates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notify.journeys.decide import StepMessage, decide_step, moment_of
from services.notify.policy.decide import Policy, Recipient
from services.notify.replicas.products import ProductInfo
from tests.support.recipients import said

PARIS = ZoneInfo("Europe/Paris")
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=PARIS)  # a Tuesday
NIGHT = NOON.replace(hour=23)
POLICY = Policy()
EVERYTHING = {"location": True, "offers": True, "pickup_updates": True, "product_tips": True}
COMPOST = ProductInfo("COMPOST-40L", "Compost 40 L", 4, {"fr": "Terreau 40 L"})
MULCH = ProductInfo("MULCH-50L", "Mulch 50 L", 7, {"fr": "Paillis 50 L"})
TEXTS = {"fr": ("Au jardin", "{product} en stock ici"), "en": ("Garden", "{product} in stock here")}


def shopper(**kw: object) -> Recipient:
    base: dict[str, object] = {
        "consents": EVERYTHING,
        "locale": "fr-FR",
        "timezone": "Europe/Paris",
        "subscribed": True,
    }
    return Recipient(**{**base, **kw})


def step(purpose: str = "offers", **kw: object) -> StepMessage:
    base: dict[str, object] = {"purpose": purpose, "texts": TEXTS, "sku": "COMPOST-40L", "product": COMPOST}
    return StepMessage(**{**base, **kw})


def decide(s: StepMessage, who: Recipient | None = None, when: datetime = NOON):
    return decide_step(s, who or shopper(), moment_of(7, "rivoli", when, "Europe/Paris"), POLICY)


def without(purpose: str) -> dict[str, bool]:
    return {**EVERYTHING, purpose: False}


# ------------------------------------------------------------------------------------ the control arm


def test_a_treatment_offer_is_said_with_the_products_name() -> None:
    d = decide(step())
    assert (d.status, d.reason, d.sku, d.locale, d.body) == (
        "pending",
        None,
        "COMPOST-40L",
        "fr",
        "Terreau 40 L en stock ici",
    )


def test_the_control_arm_is_never_told_an_offer_and_it_is_logged_as_held_out() -> None:
    d = decide(step(arm="control"))
    assert (d.status, d.reason, d.sku) == ("suppressed", "holdout", "COMPOST-40L")
    assert d.title is None and d.body is None  # nothing of what would have been said is kept but its subject


@pytest.mark.parametrize("when", [NOON, NIGHT])
def test_the_control_arm_is_held_out_of_a_message_held_through_quiet_hours_too(when: datetime) -> None:
    assert decide(step(arm="control"), when=when).reason == "holdout"


@pytest.mark.parametrize(
    ("purpose", "kw"),
    [("product_tips", {}), ("back_in_stock", {"requested": True})],
)
def test_the_control_arm_is_held_out_of_tips_and_back_in_stock_messages(purpose: str, kw: dict[str, bool]) -> None:
    assert decide(step(purpose, **kw)).status == "pending"
    assert (decide(step(purpose, arm="control", **kw)).status, decide(step(purpose, arm="control", **kw)).reason) == (
        "suppressed",
        "holdout",
    )


def test_a_pickup_update_is_said_to_the_control_arm_too() -> None:
    d = decide(step("pickup_updates", arm="control"))
    assert (d.status, d.reason, d.locale, d.title, d.body) == (
        "pending",
        None,
        "fr",
        "Au jardin",
        "Terreau 40 L en stock ici",
    )


@pytest.mark.parametrize(
    ("s", "who", "reason"),
    [
        (step(arm="control"), shopper(consents=without("offers")), "no_consent"),
        (step(arm="control"), shopper(subscribed=False), "no_subscription"),
        (step(arm="control", product=replace(COMPOST, available=0)), shopper(), "out_of_stock"),
        (step("product_tips", arm="control"), shopper(consents=without("product_tips")), "no_consent"),
        (step("back_in_stock", arm="control"), shopper(), "no_request"),
        (step("pickup_updates", arm="control"), shopper(consents=without("pickup_updates")), "no_consent"),
    ],
)
def test_a_control_message_refused_for_another_reason_keeps_that_reason(
    s: StepMessage, who: Recipient, reason: str
) -> None:
    d = decide(s, who)
    assert (d.status, d.reason) == ("suppressed", reason)


def test_a_control_duplicate_keeps_its_reason() -> None:
    told = shopper(recent=(said("COMPOST-40L", NOON - timedelta(hours=1)),))
    assert decide(step(arm="control"), told).reason == "duplicate"


# ------------------------------------------------------------------------------------ paused


@pytest.mark.parametrize("purpose", ["offers", "pickup_updates", "product_tips", "back_in_stock"])
@pytest.mark.parametrize("arm", ["treatment", "control"])
def test_a_paused_journey_says_nothing(purpose: str, arm: str) -> None:
    d = decide(step(purpose, paused=True, arm=arm, requested=True))
    assert (d.status, d.reason, d.sku) == ("suppressed", "paused", "COMPOST-40L")


# ------------------------------------------------------------------------------------ offers


def test_an_offer_out_of_stock_is_the_in_stock_alternative() -> None:
    d = decide(step(product=replace(COMPOST, available=0), alternative=MULCH), shopper(locale="en-GB"))
    assert (d.status, d.sku, d.locale, d.body) == ("pending", "MULCH-50L", "en", "Mulch 50 L in stock here")


@pytest.mark.parametrize("product", [replace(COMPOST, available=0), None])
def test_an_offer_with_nothing_in_stock_is_out_of_stock(product: ProductInfo | None) -> None:
    d = decide(step(product=product, alternative=None))
    assert (d.status, d.reason, d.sku) == ("suppressed", "out_of_stock", "COMPOST-40L")
    assert decide(step(product=product, alternative=replace(MULCH, available=0))).reason == "out_of_stock"


def test_an_offer_at_night_is_held_until_quiet_hours_end() -> None:
    d = decide(step(), when=NIGHT)
    assert (d.status, d.reason) == ("held", "quiet_hours")
    assert d.send_after == datetime(2026, 11, 25, 8, 0, tzinfo=PARIS).astimezone(UTC)


def test_an_offer_over_the_frequency_cap_is_not_said() -> None:
    told = shopper(recent=(said("MULCH-50L", NOON - timedelta(hours=1)),))
    assert decide(step(), told).reason == "frequency_cap"


# ------------------------------------------------------------------------------------ product tips


def test_a_product_tip_needs_its_own_consent() -> None:
    d = decide(step("product_tips"), shopper(consents=without("product_tips")))
    assert (d.status, d.reason, d.sku) == ("suppressed", "no_consent", "COMPOST-40L")
    assert decide(step("product_tips"), shopper(consents={"offers": True, "location": True})).reason == "no_consent"


def test_a_product_tip_is_said_by_day_naming_the_product() -> None:
    d = decide(step("product_tips"), shopper(locale="en"))
    assert (d.status, d.reason, d.locale, d.body) == ("pending", None, "en", "Compost 40 L in stock here")


def test_a_product_tip_at_night_is_held_until_quiet_hours_end() -> None:
    d = decide(step("product_tips"), when=NIGHT)
    assert (d.status, d.reason) == ("held", "quiet_hours")
    assert d.send_after == datetime(2026, 11, 25, 8, 0, tzinfo=PARIS).astimezone(UTC)
    assert d.body == "Terreau 40 L en stock ici"


def test_a_product_tip_counts_against_no_cap() -> None:
    told = shopper(recent=(said("MULCH-50L", NOON - timedelta(hours=1)), said("X", NOON - timedelta(days=1))))
    assert decide(step("product_tips"), told).status == "pending"


def test_a_product_tip_without_a_product_says_its_text_as_written() -> None:
    plain = {"en": ("Garden", "Water it once a week")}
    d = decide(step("product_tips", texts=plain, sku=None, product=None), shopper(locale="en"))
    assert (d.status, d.sku, d.body) == ("pending", None, "Water it once a week")


# ------------------------------------------------------------------------------------ back in stock


def test_a_back_in_stock_message_without_the_shoppers_request_is_not_said() -> None:
    d = decide(step("back_in_stock"))
    assert (d.status, d.reason, d.sku) == ("suppressed", "no_request", "COMPOST-40L")


def test_a_back_in_stock_message_answers_an_open_request_while_in_stock() -> None:
    assert decide(step("back_in_stock", requested=True)).status == "pending"
    gone = step("back_in_stock", requested=True, product=replace(COMPOST, available=0))
    assert decide(gone).reason == "out_of_stock"
    assert decide(step("back_in_stock", requested=True), when=NIGHT).status == "held"


# ------------------------------------------------------------------------------------ pickup updates


def test_a_pickup_update_is_said_at_any_hour_with_its_consent() -> None:
    assert decide(step("pickup_updates"), when=NIGHT).status == "pending"
    d = decide(step("pickup_updates"), shopper(consents=without("pickup_updates")))
    assert (d.status, d.reason) == ("suppressed", "no_consent")
