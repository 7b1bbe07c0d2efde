"""The revocation list on PostgreSQL: ids that name no one, heard by another process, bounded by the
tokens still alive, and loaded again after a reconnection from where a process left off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import asyncpg

from shared.auth import Principal
from shared.db import Database
from shared.revocation import RevocationWatcher, forget_expired
from tests.conftest import eventually


def holder(token_id: str) -> Principal:
    return Principal(role="device", subject="dev_1", token_id=token_id)


async def test_a_revocation_reaches_another_process_and_expires_with_its_tokens(
    db_url: str, db: asyncpg.Connection
) -> None:
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    here, there = RevocationWatcher(), RevocationWatcher()
    until = datetime.now(UTC) + timedelta(hours=1)
    try:
        await here.start(pool, db_url)
        await there.start(pool, db_url)
        async with pool.acquire() as conn, conn.transaction():
            assert await here.revoke(conn, "tok_rotated", until)
        async with pool.acquire() as conn, conn.transaction():
            assert not await here.revoke(conn, "tok_rotated", until)  # a token is revoked once

        async def heard() -> bool:
            return there.is_revoked(holder("tok_rotated"))

        assert await eventually(heard)
        assert not there.is_revoked(holder("tok_other"))
        rows = await db.fetch("SELECT revocation_id, expires_at FROM bus.revoked_tokens")
        assert [(r["revocation_id"], r["expires_at"]) for r in rows] == [("tok_rotated", until)]
    finally:
        await here.stop()
        await there.stop()
        await pool.close()


async def test_a_reconnected_process_loads_what_it_missed_and_only_that(db_url: str, db: asyncpg.Connection) -> None:
    """A notice lost with the LISTEN connection is made good on reconnection, from the latest entry
    the process knew (less a margin), not by reading the whole list again."""
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    watcher = RevocationWatcher()
    until = datetime.now(UTC) + timedelta(hours=1)
    try:
        await watcher.start(pool, db_url)
        await db.execute(  # written without a notice, as if it came while the connection was down
            """
            INSERT INTO bus.revoked_tokens (revocation_id, recorded_at, expires_at)
            VALUES ('missed', clock_timestamp(), $1), ('long_known', now() - interval '1 day', $1)
            """,
            until,
        )
        await db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database() AND query LIKE 'LISTEN%'"
        )

        async def reloaded() -> bool:
            return watcher.is_revoked(holder("missed"))

        assert await eventually(reloaded, timeout=10)
        assert not watcher.is_revoked(holder("long_known"))  # older than what it had loaded: not read again
    finally:
        await watcher.stop()
        await pool.close()


async def test_expired_revocations_leave_the_table(db_url: str, db: asyncpg.Connection) -> None:
    now = datetime.now(UTC)
    await db.execute(
        "INSERT INTO bus.revoked_tokens (revocation_id, expires_at) VALUES ('old', $1), ('alive', $2)",
        now - timedelta(seconds=1),
        now + timedelta(days=1),
    )
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=1)
    try:
        assert await forget_expired(SimpleNamespace(db=Database(pool, db_url)), now) == 1
    finally:
        await pool.close()
    assert await db.fetchval("SELECT array_agg(revocation_id) FROM bus.revoked_tokens") == ["alive"]
