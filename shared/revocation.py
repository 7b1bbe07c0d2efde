"""Revoked tokens: an erased device's or a removed staff member's token is refused by every process of
every service.

Tokens are checked without a database round trip (signed JWTs), so each process keeps the set of
revoked subjects in memory: loaded at start, updated through LISTEN accueil_revoked, reloaded whole
after a reconnection (a revocation may have been missed meanwhile).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import asyncpg

from shared.listener import Listener

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
        self._listener: Listener | None = None
        self._callbacks: list[Callable[[set[str]], None]] = []

    def on_revoke(self, callback: Callable[[set[str]], None]) -> None:
        """`callback(subjects)` runs when subjects are revoked (or reloaded), so that what a token
        opened and still holds (a live stream) ends too."""
        self._callbacks.append(callback)

    def add(self, subject: str) -> None:
        self._learn({subject})

    def _learn(self, subjects: set[str]) -> None:
        self.revoked.update(subjects)
        for callback in self._callbacks:
            try:
                callback(subjects)
            except Exception:
                log.exception("a revocation callback failed")

    async def start(self, pool: asyncpg.Pool, dsn: str) -> None:
        """Listening first, then the set is loaded (and reloaded after every reconnection)."""
        self._pool = pool
        self._listener = Listener(dsn, {CHANNEL: self.add}, on_connect=[self._reload], name="revocation-listen")
        self._listener.start()
        await self._listener.connected.wait()

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()

    async def _reload(self) -> None:
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            rows = await conn.fetch("SELECT subject FROM bus.revoked_subjects")
        self._learn({r["subject"] for r in rows})
