"""geo's copy of each device's location consent, fed by notify's consent.changed events."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.geo import repository as repo
from shared.bus import Consumer
from shared.events import Event


async def apply_consent(conn: asyncpg.Connection, event: Event, _state: Any) -> None:
    """Keep the location purpose; the newest event wins, whatever order they are handled in.
    An erasure request withdraws it at once (the erasure itself follows), so a ping sent right after
    the erasure call returned is not processed."""
    if event.type == "erasure.requested" and event.device_id is not None:
        await repo.forget_location_consent(conn, event.device_id)
        return
    purposes = event.data.get("purposes", {})
    if event.device_id is None or "location" not in purposes:
        return
    await repo.set_location_consent(conn, event.device_id, bool(purposes["location"]), event.id)


CONSENTS = Consumer(name="geo.consents", types=("consent.changed", "erasure.requested"), handle=apply_consent)
