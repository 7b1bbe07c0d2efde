"""The other services' confirmations that they erased a device."""

from __future__ import annotations

import asyncpg

from services.notify.context import NotifyContext
from services.notify.privacy import repository as repo
from shared import bus
from shared.bus import Consumer
from shared.events import ErasureConfirmed


async def record_confirmation(conn: asyncpg.Connection, event: ErasureConfirmed, _ctx: NotifyContext) -> None:
    """Once every service has confirmed, the device's events leave the event log too."""
    done = await repo.confirm_erasure(conn, event.data.erasure_id, event.data.service)
    if done is not None and done["just_completed"]:
        await bus.forget_device(conn, done["device_id"])


CONFIRMATIONS = Consumer(name="notify.erasures", types=(ErasureConfirmed,), handle=record_confirmation)
