"""inventory's own settings, from ACCUEIL_<FIELD> variables (shared.settings.load_env)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Seconds = Annotated[int, msgspec.Meta(ge=60, le=90 * 86_400)]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]


class InventorySettings(msgspec.Struct, frozen=True, kw_only=True):
    pickup_hold_s: Seconds = 48 * 3600
    """A ready order not collected this long after it became ready is canceled and its stock released."""

    prepare_hold_s: Seconds = 7 * 86_400
    """A reserved order never made ready this long after it was placed is canceled too: stock held
    by an order nobody is preparing is stock no shopper can buy."""

    display_name_retention_days: Days = 30
    """The name a shopper gave for staff to call out is forgotten this long after the order ended
    (collected or canceled); the order itself is a sales record and stays."""
