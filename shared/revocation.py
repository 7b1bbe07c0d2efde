"""Revoked tokens: an erased device's or a removed staff member's token is refused by every process of
every service.

Tokens are checked without a database round trip (signed JWTs), so each process keeps the revoked
subjects in memory: loaded at start, updated through LISTEN accueil_revoked, reloaded whole after a
reconnection (a revocation may have been missed meanwhile).

A subject is kept only as a keyed hash (HMAC-SHA256 under a key of its own, shared/keys.py): the list
must go on refusing an erased device's token, and must not keep the device's id to do so. Without the
key the digests name no one; with it, a token's subject is checked in one hash.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

import asyncpg

from shared.db import as_connection
from shared.listener import Listener

log = logging.getLogger("accueil.revocation")

CHANNEL = "accueil_revoked"

IsRevoked = Callable[[str], bool]
_DIGESTS_KEPT = 10_000


def subject_digest(key: bytes, subject: str) -> bytes:
    return hmac.digest(key, subject.encode(), "sha256")


async def hash_plain_subjects(conn: asyncpg.Connection, key: bytes) -> int:
    """Subjects revoked before they were hashed (bus.revoked_subjects) move to bus.revoked_digests, their
    date kept. The migrations cannot do it: they never hold the key."""
    async with conn.transaction():
        rows = await conn.fetch("DELETE FROM bus.revoked_subjects RETURNING subject, revoked_at")
        await conn.executemany(
            "INSERT INTO bus.revoked_digests (digest, revoked_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [(subject_digest(key, r["subject"]), r["revoked_at"]) for r in rows],
        )
    return len(rows)


class RevocationWatcher:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self._revoked: set[bytes] = set()
        # Asked of every request's caller, a phone's with each of its pings: the digest is kept rather
        # than hashed again (a process sees a few thousand callers at a time).
        self._digests: dict[str, bytes] = {}
        self._pool: asyncpg.Pool | None = None
        self._listener: Listener | None = None
        self._callbacks: list[Callable[[IsRevoked], None]] = []

    async def revoke(self, conn: asyncpg.Connection, subject: str) -> None:
        """In the caller's transaction: from its commit on, every process refuses the subject's tokens
        (this one too once the caller `add`s it, without waiting for the notice)."""
        digest = subject_digest(self._key, subject)
        await conn.execute("INSERT INTO bus.revoked_digests (digest) VALUES ($1) ON CONFLICT DO NOTHING", digest)
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, digest.hex())

    def is_revoked(self, subject: str) -> bool:
        digest = self._digests.get(subject)
        if digest is None:
            if len(self._digests) >= _DIGESTS_KEPT:
                self._digests.clear()
            digest = self._digests[subject] = subject_digest(self._key, subject)
        return digest in self._revoked

    def on_revoke(self, callback: Callable[[IsRevoked], None]) -> None:
        """`callback(is_revoked)` runs when subjects are revoked (or reloaded), so that what a token
        opened and still holds (a live stream) ends too: it asks `is_revoked` of each subject it holds."""
        self._callbacks.append(callback)

    def add(self, subject: str) -> None:
        """This process refuses the subject's tokens at once (the others learn it from the commit)."""
        self._digests.pop(subject, None)  # the erased or removed id is not kept, even here
        self._learn({subject_digest(self._key, subject)})

    def _heard(self, payload: str) -> None:
        try:
            digest = bytes.fromhex(payload)
        except ValueError:
            log.warning("ignored a revocation notice that is no digest")
            return
        self._learn({digest})

    def _learn(self, digests: set[bytes]) -> None:
        self._revoked.update(digests)
        for callback in self._callbacks:
            try:
                callback(self.is_revoked)
            except Exception:
                log.exception("a revocation callback failed")

    async def start(self, pool: asyncpg.Pool, dsn: str) -> None:
        """Listening first, then the set is loaded (and reloaded after every reconnection)."""
        self._pool = pool
        async with pool.acquire() as conn:
            if moved := await hash_plain_subjects(as_connection(conn), self._key):
                log.info("hashed %d revoked subjects kept in clear", moved)
        self._listener = Listener(dsn, {CHANNEL: self._heard}, on_connect=[self._reload], name="revocation-listen")
        self._listener.start()
        await self._listener.connected.wait()

    async def stop(self) -> None:
        if self._listener is not None:
            await self._listener.stop()

    async def _reload(self) -> None:
        assert self._pool is not None
        async with self._pool.acquire() as conn:
            rows = await conn.fetch("SELECT digest FROM bus.revoked_digests")
        self._learn({bytes(r["digest"]) for r in rows})
