"""inventory's own settings, from ACCUEIL_<FIELD> variables (shared.settings.load_env)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Seconds = Annotated[int, msgspec.Meta(ge=60, le=90 * 86_400)]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
Count = Annotated[int, msgspec.Meta(ge=1, le=100_000)]


class InventorySettings(msgspec.Struct, frozen=True, kw_only=True):
    pickup_hold_s: Seconds = 48 * 3600
    """A ready order not collected this long after it became ready is canceled and its stock released."""

    prepare_hold_s: Seconds = 6 * 3600
    """A reserved order never made ready this long after it was placed is canceled too: stock held
    by an order nobody is preparing is stock no shopper can buy."""

    max_open_orders: Count = 3
    """Orders one device may have reserved or ready at once."""

    max_open_units: Count = 30
    """Units one device's open orders may hold together."""

    max_units_per_product: Count = 10
    """Units of one product one device's open orders may hold together."""

    max_orders_per_hour: Count = 10
    """Orders one device may place in any hour (beyond: 429 with Retry-After)."""

    display_name_retention_days: Days = 30
    """The name a shopper gave for staff to call out is forgotten this long after the order ended
    (collected or canceled); the order itself is a sales record and stays."""
