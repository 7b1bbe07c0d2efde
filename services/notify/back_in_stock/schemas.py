"""The back-in-stock feature on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from shared.wire import Answer, Body


class BackInStockPut(Body):
    """Optional: what the shopper saw when asking, kept with the request as proof."""

    shown: Annotated[str, msgspec.Meta(max_length=5_000)] | None = None
    """The text the shopper was shown when asking (e.g. "Tell me when it is back")."""
    policy_version: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    """The privacy policy version the app showed."""


class BackInStockRequest(Answer):
    request_id: int
    device_id: str
    store_id: str
    sku: str
    status: Literal["open", "answered", "withdrawn", "lapsed"]
    """open: waiting for the stock; answered: its one message is on its way or was said; withdrawn
    (DELETE) or lapsed (not answered in time)."""
    requested_at: datetime
    lapses_at: datetime
    """Still open then, it lapses: nothing is said."""
    ended_at: datetime | None = None
    shown: str | None = None
    policy_version: str | None = None
    user_agent: str | None = None
