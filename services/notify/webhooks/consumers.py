"""Fan-out: every event of the catalogue becomes one queued delivery per webhook subscribed to its type,
in the claim's transaction (no HTTP here: the senders deliver)."""

from __future__ import annotations

import asyncpg

from services.notify.consent import repository as consent_repo
from services.notify.context import NotifyContext
from services.notify.webhooks import repository as repo
from services.notify.webhooks.retry import body_of
from shared import bus
from shared.events import EVENT_TYPES, ErasureRequested, Event


async def fan_out(conn: asyncpg.Connection, event: Event, ctx: NotifyContext) -> None:
    """An event about a device notify no longer holds is not passed on: it was erased (or is being
    erased: hold_device waits for the erasure to commit), and its erasure removed what it had queued
    (see privacy.service). The erasure's own notice is the exception: receivers must erase their
    copies too. It is queued without the device, whose earlier deliveries are gone and which has no
    later ones, so nothing about the device is kept once it is sent (the body is then cleared)."""
    device_id = event.device_id
    if isinstance(event, ErasureRequested):
        device_id = None
    elif device_id is not None and not await consent_repo.hold_device(conn, device_id):
        return
    if await repo.queue_deliveries(conn, event.type, event.id, event.ts, device_id, body_of(event)):
        await repo.wake_senders(conn)


WEBHOOK_EVENTS = bus.Consumer(name="notify.webhooks", types=tuple(EVENT_TYPES.values()), handle=fan_out)
