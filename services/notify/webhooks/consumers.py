"""Fan-out: every event of the catalogue becomes one queued delivery per webhook subscribed to its type,
in the claim's transaction (no HTTP here: the senders deliver)."""

from __future__ import annotations

import asyncpg

from services.notify.context import NotifyContext
from services.notify.webhooks import repository as repo
from services.notify.webhooks.retry import body_of
from shared import bus
from shared.events import EVENT_TYPES, Event


async def fan_out(conn: asyncpg.Connection, event: Event, ctx: NotifyContext) -> None:
    if await repo.queue_deliveries(conn, event.type, event.id, event.ts, event.device_id, body_of(event)):
        await repo.wake_senders(conn)


WEBHOOK_EVENTS = bus.Consumer(name="notify.webhooks", types=tuple(EVENT_TYPES.values()), handle=fan_out)
