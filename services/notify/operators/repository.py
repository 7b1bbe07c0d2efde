"""Operators' and console sessions' SQL (notify.operators, notify.console_sessions)."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def put_operator(conn: asyncpg.Connection, email: str, role: str, stores: list[str]) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        INSERT INTO notify.operators (email, role, stores) VALUES ($1, $2, $3::text[])
        ON CONFLICT (email) DO UPDATE SET role = excluded.role, stores = excluded.stores, updated_at = now()
        RETURNING email, role, stores
        """,
        email,
        role,
        stores,
    )
    assert row is not None  # an upsert returns its row
    return row


async def get_operator(conn: asyncpg.Connection, email: str, *, lock: bool = False) -> asyncpg.Record | None:
    """With `lock`, held until the transaction ends (a change audited from this state)."""
    return await conn.fetchrow(
        f"SELECT email, role, stores FROM notify.operators WHERE email = $1 {'FOR UPDATE' if lock else ''}", email
    )


async def list_operators(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT email, role, stores FROM notify.operators ORDER BY email")


async def delete_operator(conn: asyncpg.Connection, email: str) -> bool:
    """Their console sessions go with them (ON DELETE CASCADE)."""
    return await conn.fetchval("DELETE FROM notify.operators WHERE email = $1 RETURNING true", email) is not None


async def create_session(conn: asyncpg.Connection, session_hash: bytes, email: str, expires_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO notify.console_sessions (session_hash, email, expires_at) VALUES ($1, $2, $3)",
        session_hash,
        email,
        expires_at,
    )


async def session_operator(conn: asyncpg.Connection, session_hash: bytes) -> asyncpg.Record | None:
    """The operator behind an unexpired session, as they are now (a role changed since sign-in shows)."""
    return await conn.fetchrow(
        """
        SELECT o.email, o.role, o.stores, s.expires_at AS session_expires_at
        FROM notify.console_sessions s
        JOIN notify.operators o ON o.email = s.email
        WHERE s.session_hash = $1 AND s.expires_at > now()
        """,
        session_hash,
    )


async def delete_session(conn: asyncpg.Connection, session_hash: bytes) -> None:
    await conn.execute("DELETE FROM notify.console_sessions WHERE session_hash = $1", session_hash)


async def delete_expired_sessions(conn: asyncpg.Connection, now: datetime) -> str:
    return await conn.execute("DELETE FROM notify.console_sessions WHERE expires_at <= $1", now)
