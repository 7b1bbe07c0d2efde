"""What each message notify may send is for: its purpose names the consent it needs, if any, and the
rules it is decided by."""

from __future__ import annotations

from typing import Final

from shared.events import Purpose

OFFERS: Final[Purpose] = "offers"
"""Promotions, as a shopper walks in: the `offers` consent, frequency caps and quiet hours."""

PICKUP_UPDATES: Final[Purpose] = "pickup_updates"
""""Your order is ready", "we see you": the `pickup_updates` consent, said at any hour."""

PRODUCT_TIPS: Final[Purpose] = "product_tips"
"""Advice on a product the shopper collected (how to use it, what goes with it): the `product_tips`
consent, never given by default. Not a promotion, so no frequency cap counts it or holds it back;
but it is not said at night: quiet hours hold it."""

BACK_IN_STOCK: Final = "back_in_stock"
"""The one message answering a shopper's back-in-stock request: the request is its consent."""

STAFF_ALERTS: Final = "staff_alerts"
"""A store's staff told a pickup customer is coming: their job, no consent."""

FREQUENCY_CAPPED: Final = frozenset({OFFERS})
"""Purposes counted against, and held back by, the frequency caps: promotions only."""

HELD_IN_QUIET_HOURS: Final = frozenset({OFFERS, PRODUCT_TIPS})
"""Purposes held through quiet hours: what can wait for the morning is not said at night."""
