"""Answering a back-in-stock request: said once it may be, in the device's language, held through
quiet hours, never about stock that is gone, and never counted as an offer."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from services.notify.back_in_stock.answer import answer, available_now
from services.notify.policy.decide import Past, Policy, Recipient, over_cap
from services.notify.policy.purposes import BACK_IN_STOCK, OFFERS
from services.notify.replicas.products import ProductInfo, StockLevel
from shared.events import StockBackInStock, StockData

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
POLICY = Policy(quiet_start=time(21, 0), quiet_end=time(8, 0))
YOGHURT = ProductInfo(sku="YOG-1", name="Plain yoghurt", available=3, names={"fr": "Yaourt nature"})


def shopper(locale: str = "fr-FR", subscribed: bool = True, **kw: object) -> Recipient:
    # No consent at all: the request is the purpose of its one message.
    return Recipient(consents={}, locale=locale, timezone="UTC", subscribed=subscribed, **kw)  # type: ignore[arg-type]


def event(event_id: int, after: int) -> StockBackInStock:
    return StockBackInStock(
        id=event_id, ts=NOON, store_id="rivoli", data=StockData(sku="YOG-1", before=0, after=after, on_hand=after)
    )


def test_in_stock_by_day_it_is_due_now_in_the_devices_language_without_any_consent() -> None:
    decision = answer("YOG-1", YOGHURT, 3, shopper(), NOON, POLICY)
    assert (decision.status, decision.reason, decision.sku, decision.locale) == ("pending", None, "YOG-1", "fr")
    assert decision.title == "De retour en stock"
    assert decision.body == "Yaourt nature est de nouveau en stock dans votre magasin."


def test_a_language_without_a_text_reads_english_with_the_english_name() -> None:
    decision = answer("YOG-1", YOGHURT, 3, shopper("de-DE"), NOON, POLICY)
    assert (decision.locale, decision.body) == ("en", "Plain yoghurt is back in stock at your store.")


def test_at_night_it_is_held_until_quiet_hours_end() -> None:
    decision = answer("YOG-1", YOGHURT, 3, shopper(), NIGHT, POLICY)
    assert (decision.status, decision.reason) == ("held", "quiet_hours")
    assert decision.send_after == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert decision.body  # the text is ready for the morning


@pytest.mark.parametrize("available", [0, -1])
def test_stock_gone_again_is_out_of_stock_and_nothing_is_written(available: int) -> None:
    decision = answer("YOG-1", YOGHURT, available, shopper(), NOON, POLICY)
    assert (decision.status, decision.reason, decision.sku, decision.body) == (
        "suppressed",
        "out_of_stock",
        "YOG-1",
        None,
    )


def test_a_product_notify_does_not_know_is_out_of_stock() -> None:
    assert answer("YOG-1", None, 3, shopper(), NOON, POLICY).reason == "out_of_stock"


def test_without_a_push_subscription_nothing_is_said() -> None:
    assert answer("YOG-1", YOGHURT, 3, shopper(subscribed=False), NOON, POLICY).reason == "no_subscription"


def test_frequency_caps_do_not_apply_and_an_answer_counts_against_no_offer_cap() -> None:
    many_offers = tuple(Past(i, OFFERS, "rivoli", f"S{i}", NOON - timedelta(minutes=i)) for i in range(10))
    assert answer("YOG-1", YOGHURT, 3, shopper(recent=many_offers), NOON, POLICY).status == "pending"
    answers = tuple(Past(i, BACK_IN_STOCK, "rivoli", f"S{i}", NOON) for i in range(10))
    assert not over_cap(answers, "rivoli", NOON, POLICY)


def test_the_event_figure_stands_unless_the_replica_knows_a_later_change() -> None:
    assert available_now(event(10, 4), None) == 4  # the replica has no row yet
    assert available_now(event(10, 4), StockLevel(0, 9)) == 4  # behind this event: not yet applied
    assert available_now(event(10, 4), StockLevel(0, 11)) == 0  # sold out again since
    assert available_now(event(10, 4), StockLevel(2, 12)) == 2
