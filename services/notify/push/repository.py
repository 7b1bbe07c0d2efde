"""The push channels' SQL: the VAPID key pair every replica signs Web Push with."""

from __future__ import annotations

import asyncpg

from shared.db import fetch_one

_VAPID_KEYS = "SELECT private_key, public_key FROM notify.vapid_keys"


async def vapid_keys(conn: asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(_VAPID_KEYS)


async def offer_vapid_keys(conn: asyncpg.Connection, private_key: str, public_key: str) -> asyncpg.Record:
    """Store this pair unless another replica stored one first; return the pair everyone uses (there is
    one now: a concurrent insert was waited for, and this next statement sees it committed)."""
    await conn.execute(
        "INSERT INTO notify.vapid_keys (private_key, public_key) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
        private_key,
        public_key,
    )
    return await fetch_one(conn, _VAPID_KEYS)
