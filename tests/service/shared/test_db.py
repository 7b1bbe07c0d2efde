"""The pool's connections: what a caller leaves on a connection does not reach the next one. And the
typed reads: a row that must exist, a value of the type the query selects."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import pytest

from shared.db import Database, create_pool, fetch_one, fetch_value

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


async def test_fetch_value_answers_the_type_asked_none_for_no_row_or_null_and_refuses_another(
    db: asyncpg.Connection,
) -> None:
    assert isinstance(await fetch_value(db, datetime, "SELECT now()"), datetime)
    assert await fetch_value(db, str, "SELECT 'Europe/Paris'") == "Europe/Paris"
    assert await fetch_value(db, str, "SELECT NULL::text") is None
    assert await fetch_value(db, str, "SELECT 'x' WHERE false") is None
    with pytest.raises(TypeError, match="a str was expected, int came"):
        await fetch_value(db, str, "SELECT 1")


async def test_fetch_one_takes_a_missing_row_for_the_bug_it_is(db: asyncpg.Connection) -> None:
    assert (await fetch_one(db, "SELECT 1 AS one"))["one"] == 1
    with pytest.raises(LookupError, match="returned none"):
        await fetch_one(db, "SELECT 1 WHERE false")
