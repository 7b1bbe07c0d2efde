"""The console's own SQL: the latest decisions of the message log."""

from __future__ import annotations

import asyncpg


async def latest_decisions(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Newest first, by the primary key; the recipient is left out, the console needs only the why."""
    return await conn.fetch(
        """
        SELECT id, decided_at, purpose, status, reason, campaign_id, journey_id, journey_step, store_id, zone_id, sku
        FROM notify.messages
        ORDER BY id DESC
        LIMIT $1
        """,
        limit,
    )
