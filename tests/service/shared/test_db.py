"""The pool's connections: what a caller leaves on a connection does not reach the next one."""

from __future__ import annotations

import asyncpg

from shared.db import Database, create_pool

LOCK = 4242


async def test_a_session_lock_left_outside_a_transaction_is_gone_for_the_next_caller(
    db: asyncpg.Connection, db_url: str
) -> None:
    pool = await create_pool(db_url, min_size=1, max_size=1, timeout_s=5)  # one connection: the next gets it
    database = Database(pool, db_url)
    try:
        async with database.outside_transaction() as conn:
            assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK)
            await conn.execute("SET application_name = 'left behind'")
        async with database.transaction() as conn:
            held = await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND pid = pg_backend_pid()",
                LOCK,
            )
            assert held == 0
            assert await conn.fetchval("SHOW application_name") != "left behind"
        assert await db.fetchval("SELECT pg_try_advisory_lock($1)", LOCK)  # anyone else may take it now
    finally:
        await pool.close()


async def test_a_transaction_left_open_by_an_error_is_rolled_back_before_the_connection_is_reused(
    db_url: str,
) -> None:
    pool = await create_pool(db_url, min_size=1, max_size=1, timeout_s=5)
    database = Database(pool, db_url)
    try:
        try:
            async with database.transaction() as conn:
                await conn.execute("CREATE TEMPORARY TABLE scratch (x int) ON COMMIT DROP")
                raise RuntimeError("the caller fails mid-transaction")
        except RuntimeError:
            pass
        async with database.transaction() as conn:
            assert not await conn.fetchval("SELECT to_regclass('pg_temp.scratch') IS NOT NULL")
    finally:
        await pool.close()
