"""notify keeps the audit log of all three services."""

from __future__ import annotations

import asyncpg

from services.notify.audit import repository as repo
from services.notify.context import NotifyContext
from shared.bus import Consumer
from shared.events import AuditRecorded


async def keep(conn: asyncpg.Connection, event: AuditRecorded, _ctx: NotifyContext) -> None:
    """Copied in the transaction that claims the event: exactly once."""
    await repo.insert(conn, event)


AUDIT_EVENTS = Consumer(name="notify.audit", types=(AuditRecorded,), handle=keep)
