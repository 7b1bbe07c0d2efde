"""The audit log's SQL (notify.audit_log)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.db import affected_rows
from shared.events import AuditRecorded


async def insert(conn: asyncpg.Connection, event: AuditRecorded) -> None:
    await conn.execute(
        """
        INSERT INTO notify.audit_log (event_id, at, actor, action, before, after)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (event_id) DO NOTHING
        """,
        event.id,
        event.ts,
        event.data.actor,
        event.data.action,
        event.data.before,
        event.data.after,
    )


async def page(conn: asyncpg.Connection, after: int, limit: int) -> list[asyncpg.Record]:
    """Entries after an id, oldest first, never past one whose transaction is still committing."""
    return await conn.fetch(
        """
        SELECT id, at, actor, action, before, after
        FROM notify.audit_log
        WHERE id > $1 AND txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY id
        LIMIT $2
        """,
        after,
        limit,
    )


async def delete_older_than(conn: asyncpg.Connection, cutoff: datetime) -> int:
    return affected_rows(await conn.execute("DELETE FROM notify.audit_log WHERE at < $1", cutoff))
