"""The event envelope every service publishes and consumes (API.md, "Events")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class Event(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: int
    type: str
    ts: datetime
    device_id: str | None = None
    store_id: str | None = None
    zone_id: str | None = None
    trip_id: str | None = None
    order_id: str | None = None
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class NewEvent(msgspec.Struct, kw_only=True):
    """An event about to be published: the bus gives it its id."""

    type: str
    ts: datetime
    device_id: str | None = None
    store_id: str | None = None
    zone_id: str | None = None
    trip_id: str | None = None
    order_id: str | None = None
    data: dict[str, Any] = msgspec.field(default_factory=dict)
