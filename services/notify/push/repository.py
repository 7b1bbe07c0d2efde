"""The push channels' SQL: the VAPID key pair every replica signs Web Push with."""

from __future__ import annotations

import asyncpg

from shared.db import fetch_one

# `private_key`: the key in clear, as stored before keys were sealed (0019); emptied once sealed.
_VAPID_KEYS = "SELECT sealed_private_key, private_key, public_key FROM notify.vapid_keys"


async def vapid_keys(conn: asyncpg.Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(_VAPID_KEYS)


async def offer_vapid_keys(conn: asyncpg.Connection, sealed_private_key: bytes, public_key: str) -> asyncpg.Record:
    """Store this pair unless another replica stored one first; return the pair everyone uses (there is
    one now: a concurrent insert was waited for, and this next statement sees it committed)."""
    await conn.execute(
        """
        INSERT INTO notify.vapid_keys (sealed_private_key, public_key) VALUES ($1, $2)
        ON CONFLICT (id) DO NOTHING
        """,
        sealed_private_key,
        public_key,
    )
    return await fetch_one(conn, _VAPID_KEYS)


async def lock_unsealed_vapid_keys(conn: asyncpg.Connection, current_prefix: bytes) -> asyncpg.Record | None:
    """The stored pair if its private key is in clear or sealed under an older key version (a sealed
    value begins with its version, big-endian: `current_prefix` is the current one's), locked until it
    is sealed again. A replica that waited for another's lock finds it sealed and gets nothing."""
    return await conn.fetchrow(
        """
        SELECT sealed_private_key, private_key FROM notify.vapid_keys
        WHERE private_key IS NOT NULL OR substring(sealed_private_key FOR 4) < $1
        FOR UPDATE
        """,
        current_prefix,
    )


async def seal_vapid_keys(conn: asyncpg.Connection, sealed_private_key: bytes) -> None:
    await conn.execute("UPDATE notify.vapid_keys SET sealed_private_key = $1, private_key = NULL", sealed_private_key)
