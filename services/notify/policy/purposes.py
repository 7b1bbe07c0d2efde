"""What each message notify may send is for: its purpose names the consent it needs, if any, and the
rules it is decided by."""

from __future__ import annotations

from typing import Final

from shared.events import Purpose

OFFERS: Final[Purpose] = "offers"
"""Promotions, as a shopper walks in: the `offers` consent, frequency caps and quiet hours."""

PICKUP_UPDATES: Final[Purpose] = "pickup_updates"
""""Your order is ready", "we see you": the `pickup_updates` consent, said at any hour."""

BACK_IN_STOCK: Final = "back_in_stock"
"""The one message answering a shopper's back-in-stock request: the request is its consent."""

STAFF_ALERTS: Final = "staff_alerts"
"""A store's staff told a pickup customer is coming: their job, no consent."""

THROTTLED: Final = frozenset({OFFERS})
"""Purposes subject to frequency caps and quiet hours."""
