"""How much one device may hold: open pickup orders are stock no other shopper can buy, and anyone can
register a device, so a device's open orders, the units they hold, and how often it orders are capped.
Pure: the caller counts, this decides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.inventory.stock.availability import Line


@dataclass(frozen=True)
class Limits:
    open_orders: int
    """Orders reserved or ready at once, per device."""
    open_units: int
    """Units those orders hold together."""
    units_per_product: int
    """Units of one product they hold together."""
    orders_per_hour: int
    """Orders placed in any hour."""


@dataclass(frozen=True)
class Holding:
    """What a device's open orders hold now, and when it placed its orders of the last hour."""

    open_orders: int
    units: Mapping[str, int]
    placed: Sequence[datetime]


def refusal(limits: Limits, holding: Holding, lines: Sequence[Line]) -> str | None:
    """Why this new order would hold too much (a sentence naming the limit), or None."""
    if holding.open_orders >= limits.open_orders:
        return f"at most {limits.open_orders} open orders per shopper: collect or cancel one first"
    total = sum(holding.units.values()) + sum(line.qty for line in lines)
    if total > limits.open_units:
        return f"at most {limits.open_units} units in open orders per shopper"
    for line in lines:
        if holding.units.get(line.sku, 0) + line.qty > limits.units_per_product:
            return f"at most {limits.units_per_product} units of one product ({line.sku}) in open orders per shopper"
    return None


def wait_before_next(limits: Limits, placed: Sequence[datetime], now: datetime) -> float | None:
    """Seconds until the device may order again, or None if it may now."""
    recent = sorted(t for t in placed if now - t < timedelta(hours=1))
    if len(recent) < limits.orders_per_hour:
        return None
    frees_at = recent[len(recent) - limits.orders_per_hour] + timedelta(hours=1)
    return max(1.0, (frees_at - now).total_seconds())
