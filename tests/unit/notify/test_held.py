"""An offer held through quiet hours, once they are over: sent, dropped with the reason, or kept
waiting while geo cannot say where the shopper is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notify.offers.held import MISSED, RELEASE, fate

MORNING = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stores_now", "available", "expected"),
    [
        ({"rivoli"}, 3, RELEASE),
        ({"rivoli", "opera"}, 1, RELEASE),
        (set(), 3, "quiet_hours"),  # left the store
        ({"opera"}, 3, "quiet_hours"),
        ({"rivoli"}, 0, "out_of_stock"),
        ({"rivoli"}, None, "out_of_stock"),  # a product notify no longer knows
    ],
)
def test_sent_only_to_a_shopper_still_in_the_store_with_the_product_on_the_shelf(
    stores_now: set[str], available: int | None, expected: str
) -> None:
    assert fate("rivoli", "YOG-1", MORNING, stores_now, available, MORNING + timedelta(seconds=30)) == expected


def test_an_offer_about_no_product_needs_only_the_shopper_there() -> None:
    assert fate("rivoli", None, MORNING, {"rivoli"}, None, MORNING) == RELEASE


def test_while_geo_cannot_say_it_waits_then_is_dropped_once_the_visit_is_surely_over() -> None:
    assert fate("rivoli", "YOG-1", MORNING, None, 3, MORNING + MISSED) is None
    assert fate("rivoli", "YOG-1", MORNING, None, 3, MORNING + MISSED + timedelta(seconds=1)) == "quiet_hours"
