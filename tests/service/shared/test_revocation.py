"""The revocation list on PostgreSQL: keyed hashes only, heard by another process, and the subjects kept
in clear by earlier versions hashed when a service starts."""

from __future__ import annotations

import asyncpg

from shared import keys
from shared.revocation import RevocationWatcher, subject_digest
from tests.conftest import TOKEN_KEY, eventually

KEY = keys.derive(TOKEN_KEY, keys.REVOCATIONS)


async def test_a_revocation_reaches_another_process_and_stores_no_subject(db_url: str, db: asyncpg.Connection) -> None:
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    here, there = RevocationWatcher(KEY), RevocationWatcher(KEY)
    try:
        await here.start(pool, db_url)
        await there.start(pool, db_url)
        async with pool.acquire() as conn, conn.transaction():
            await here.revoke(conn, "dev_erased")
        here.add("dev_erased")

        async def heard() -> bool:
            return there.is_revoked("dev_erased")

        assert await eventually(heard)
        assert not there.is_revoked("dev_other")
        rows = await db.fetch("SELECT digest FROM bus.revoked_digests")
        assert [bytes(r["digest"]) for r in rows] == [subject_digest(KEY, "dev_erased")]
        assert await db.fetchval("SELECT count(*) FROM bus.revoked_subjects") == 0
    finally:
        await here.stop()
        await there.stop()
        await pool.close()


async def test_subjects_kept_in_clear_are_hashed_at_start_and_stay_revoked(db_url: str, db: asyncpg.Connection) -> None:
    await db.execute(
        "INSERT INTO bus.revoked_subjects (subject, revoked_at) VALUES ('stf_gone', '2026-11-01T08:00:00Z')"
    )
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    watcher = RevocationWatcher(KEY)
    try:
        await watcher.start(pool, db_url)
        assert watcher.is_revoked("stf_gone")
    finally:
        await watcher.stop()
        await pool.close()
    assert await db.fetchval("SELECT count(*) FROM bus.revoked_subjects") == 0
    row = await db.fetchrow("SELECT digest, revoked_at::text AS at FROM bus.revoked_digests")
    assert bytes(row["digest"]) == subject_digest(KEY, "stf_gone")
    assert row["at"].startswith("2026-11-01 08:00:00")  # the date of the revocation is kept
