"""Revoked tokens: an erased device's token is refused by every process of every service.

Tokens are checked without a database round trip (signed JWTs), so each process keeps the set of
revoked subjects in memory: loaded at start, updated through LISTEN accueil_revoked, reloaded whole
after a reconnection (a revocation may have been missed meanwhile).
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from shared.db import UNAVAILABLE, connect

log = logging.getLogger("accueil.revocation")

CHANNEL = "accueil_revoked"


async def revoke(conn: asyncpg.Connection, subject: str) -> None:
    """In the caller's transaction: from its commit on, the subject's tokens are refused."""
    await conn.execute("INSERT INTO bus.revoked_subjects (subject) VALUES ($1) ON CONFLICT DO NOTHING", subject)
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, subject)


class RevocationWatcher:
    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self._pool: asyncpg.Pool | None = None
        self._dsn = ""
        self._task: asyncio.Task[None] | None = None

    async def start(self, pool: asyncpg.Pool, dsn: str) -> None:
        self._pool, self._dsn = pool, dsn
        await self._reload()
        self._task = asyncio.create_task(self._listen(), name="revocation-listen")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _reload(self) -> None:
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            rows = await conn.fetch("SELECT subject FROM bus.revoked_subjects")
        self.revoked = {r["subject"] for r in rows}

    def _on_notify(self, _conn: object, _pid: int, _channel: str, subject: str) -> None:
        self.revoked.add(subject)

    async def _listen(self) -> None:
        first = True
        while True:
            conn = None
            try:
                conn = await connect(self._dsn)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, done=lost: done.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                if not first:
                    await self._reload()
                first = False
                await lost.wait()
            except UNAVAILABLE as exc:
                log.info("revocation listener lost its connection (%s); reconnecting", exc)
            finally:
                if conn is not None and not conn.is_closed():
                    await conn.close(timeout=2)
            await asyncio.sleep(1)
