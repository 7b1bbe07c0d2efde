"""The asyncpg pool, opened with retry, and the per-request transaction."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import msgspec
from litestar.datastructures import State
from litestar.di import NamedDependency

log = logging.getLogger("accueil.db")

# Errors that mean "the database is not there right now", as opposed to a bad query.
UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    # A connection left mid-operation by a server that went away: the pool replaces it.
    asyncpg.exceptions._base.InternalClientError,
)


def _json_text(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    # json and jsonb columns travel as Python objects, not strings (msgspec: several times the stdlib's
    # speed, and every ping writes some).
    for type_name in ("jsonb", "json"):
        await conn.set_type_codec(type_name, encoder=_json_text, decoder=msgspec.json.decode, schema="pg_catalog")


async def connect(dsn: str, **kwargs: object) -> asyncpg.Connection:
    """A single dedicated connection (LISTEN, advisory locks), with the same codecs as the pool."""
    conn = await asyncpg.connect(dsn, **kwargs)
    await _init_connection(conn)
    return conn


async def create_pool(dsn: str, *, min_size: int, max_size: int, timeout_s: float) -> asyncpg.Pool:
    """Open the pool, waiting for the database while it comes up (a pod may start before PostgreSQL)."""
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    while True:
        try:
            return await asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                init=_init_connection,
                command_timeout=30,
                # A pooled connection that died with the server is replaced, not reused.
                max_inactive_connection_lifetime=60,
            )
        except UNAVAILABLE as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database not reachable yet (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


# A handler parameter `conn: Conn` receives the request's connection, inside its transaction.
Conn = NamedDependency[asyncpg.Connection]


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction committed on leaving the block, for a handler that must act
    after its commit (e.g. update an in-memory index only once the change is durable)."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn


async def provide_connection(state: State) -> AsyncIterator[asyncpg.Connection]:
    """Per-request dependency: one connection, one transaction, committed when the handler returns."""
    async with state.pool.acquire() as conn:
        async with conn.transaction():
            yield conn
