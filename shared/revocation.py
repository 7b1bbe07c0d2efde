"""Revoked tokens: a rotated device token, an erased device's or a removed staff member's tokens are
refused by every process of every service.

Tokens are checked without a database round trip (signed JWTs), so each process keeps the revocations
in memory. An entry is a token's `jti` or its subject's mark (`rev`, see shared/auth.Principal), with
the time the tokens it revokes expire: past it the entry is dropped, here and in bus.revoked_tokens
(the `bus.revocations` job), so the list is bounded by the tokens alive, not by history.

A process loads the unexpired entries at start, learns new ones through LISTEN accueil_revoked, and
after a reconnection loads only those recorded since the last it knew, less RELOAD_MARGIN: an entry is
stamped when inserted and becomes visible when its transaction commits, a moment later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from shared.auth import Principal
from shared.db import affected_rows
from shared.jobs import Job
from shared.listener import Listener

log = logging.getLogger("accueil.revocation")

CHANNEL = "accueil_revoked"
RELOAD_MARGIN = timedelta(minutes=10)
"""Longer than any transaction that revokes (an erasure, a rotation) stays open."""
_SWEEP_EVERY_S = 60.0

IsRevoked = Callable[[Principal], bool]


class RevocationWatcher:
    def __init__(self) -> None:
        self._revoked: dict[str, float] = {}  # revocation id -> when it expires (epoch seconds)
        self._known_until: datetime | None = None  # the latest `recorded_at` loaded
        self._swept_at = 0.0
        self._pool: asyncpg.Pool | None = None
        self._listener: Listener | None = None
        self._callbacks: list[Callable[[IsRevoked], None]] = []

    async def revoke(self, conn: asyncpg.Connection, revocation_id: str, expires_at: datetime) -> bool:
        """In the caller's transaction: from its commit on, every process refuses the tokens (this one
        too once the caller `add`s it, without waiting for the notice). False if it was revoked already
        (a token rotated twice at once: the second rotation must fail)."""
        first: bool = await conn.fetchval(
            """
            INSERT INTO bus.revoked_tokens (revocation_id, expires_at) VALUES ($1, $2)
            ON CONFLICT (revocation_id) DO UPDATE
                SET expires_at = greatest(bus.revoked_tokens.expires_at, excluded.expires_at)
            RETURNING xmax = 0
            """,
            revocation_id,
            expires_at,
        )
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{expires_at.timestamp():.0f} {revocation_id}")
        return first

    def is_revoked(self, principal: Principal) -> bool:
        return any(i in self._revoked for i in principal.revocation_ids)

    def on_revoke(self, callback: Callable[[IsRevoked], None]) -> None:
        """`callback(is_revoked)` runs when tokens are revoked (or reloaded), so that what a token opened
        and still holds (a live stream) ends too: it asks `is_revoked` of each caller it holds."""
        self._callbacks.append(callback)

    def add(self, revocation_id: str, expires_at: datetime) -> None:
        """This process refuses the tokens at once (the others learn it from the commit)."""
        self._learn({revocation_id: expires_at.timestamp()})

    def _heard(self, payload: str) -> None:
        expires, _, revocation_id = payload.partition(" ")
        try:
            self._learn({revocation_id: float(expires)})
        except ValueError:
            log.warning("ignored a revocation notice of another form")

    def _learn(self, entries: dict[str, float]) -> None:
        for revocation_id, expires in entries.items():
            self._revoked[revocation_id] = max(expires, self._revoked.get(revocation_id, expires))
        self._sweep()
        for callback in self._callbacks:
            try:
                callback(self.is_revoked)
            except Exception:
                log.exception("a revocation callback failed")

    def _sweep(self) -> None:
        """Entries whose tokens have all expired revoke nothing: an expired token is refused anyway."""
        now = time.time()
        if now - self._swept_at < _SWEEP_EVERY_S:
            return
        self._swept_at = now
        self._revoked = {i: expires for i, expires in self._revoked.items() if expires > now}

    async def start(self, pool: asyncpg.Pool, dsn: str) -> None:
        """Listening first, then the entries are loaded (and what may have been missed, after every
        reconnection)."""
        self._pool = pool
        self._listener = Listener(dsn, {CHANNEL: self._heard}, on_connect=[self._reload], name="revocation-listen")
        self._listener.start()
        await self._listener.connected.wait()

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()

    async def _reload(self) -> None:
        assert self._pool is not None
        since = None if self._known_until is None else self._known_until - RELOAD_MARGIN
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """
                SELECT revocation_id, recorded_at, expires_at
                FROM bus.revoked_tokens
                WHERE expires_at > now() AND ($1::timestamptz IS NULL OR recorded_at > $1)
                """,
                since,
            )
        latest = [r["recorded_at"] for r in rows] + [self._known_until or datetime.now(UTC) - RELOAD_MARGIN]
        self._known_until = max(latest)
        self._learn({r["revocation_id"]: r["expires_at"].timestamp() for r in rows})

    @property
    def size(self) -> int:
        """Entries held in memory (unexpired, give or take a sweep)."""
        return len(self._revoked)


async def forget_expired(ctx: Any, now: datetime) -> int:
    """Entries that revoke only tokens expired by now."""
    async with ctx.db.transaction() as conn:
        return affected_rows(await conn.execute("DELETE FROM bus.revoked_tokens WHERE expires_at <= $1", now))


# Every service schedules it; like every job it runs once per tick across all of them.
EXPIRED = Job("bus.revocations", 3600, forget_expired)
