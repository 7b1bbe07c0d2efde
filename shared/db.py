"""The asyncpg pool, opened with retry, and the one way to begin a transaction."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal, Protocol, TypeVar, cast

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger("accueil.db")

IsolationLevel = Literal["read_committed", "repeatable_read", "serializable"]
T = TypeVar("T")

# Errors that mean "the database is not there right now", as opposed to a bad query.
UNAVAILABLE: tuple[type[Exception], ...] = (
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


async def _leave_as_is(conn: asyncpg.Connection) -> None:
    """What the pool does to a connection handed back from a transaction, besides asyncpg's rollback of
    one left open: nothing. A transaction leaves no session state (settings are SET LOCAL, temporary
    tables ON COMMIT DROP, locks transaction-scoped), and the default reset (UNLISTEN, RESET ALL,
    advisory unlock, CLOSE ALL) is one more round trip before a group commit can answer its uploads.
    Connections used outside a transaction reset themselves (Database.outside_transaction)."""


async def connect(dsn: str, **kwargs: Any) -> asyncpg.Connection:
    """A single dedicated connection (LISTEN, advisory locks), with the same codecs as the pool."""
    conn: asyncpg.Connection = await asyncpg.connect(dsn, **kwargs)
    await _init_connection(conn)
    return conn


async def create_pool(
    dsn: str, *, min_size: int, max_size: int, timeout_s: float, server_settings: dict[str, str] | None = None
) -> asyncpg.Pool:
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
                reset=_leave_as_is,
                command_timeout=30,
                # A pooled connection that died with the server is replaced, not reused.
                max_inactive_connection_lifetime=60,
                server_settings=server_settings,
            )
        except UNAVAILABLE as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("database not reachable yet (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def as_connection(pooled: PoolConnectionProxy) -> asyncpg.Connection:
    """A pooled connection as the connection it stands for: asyncpg hands out a proxy that forwards
    every call to the connection it holds until it goes back to the pool, typed apart from it."""
    return cast(asyncpg.Connection, pooled)


def affected_rows(status: str) -> int:
    """How many rows a statement touched, from the command tag `execute` returns ("DELETE 3",
    "UPDATE 0", "INSERT 0 5": the count is always last)."""
    return int(status.rsplit(" ", 1)[-1])


async def fetch_one(conn: asyncpg.Connection, query: str, *args: object) -> asyncpg.Record:
    """The row of a statement that always returns one (an upsert's RETURNING, a row of aggregates).
    asyncpg's fetchrow allows for none; here none would be a bug, and is raised as one."""
    row = await conn.fetchrow(query, *args)
    if row is None:
        raise LookupError(f"a statement that always returns a row returned none: {query.strip()[:80]!r}")
    return row


async def fetch_value(conn: asyncpg.Connection, kind: type[T], query: str, *args: object) -> T | None:
    """The first column of the statement's first row, or None (no row, or NULL), as the type the query
    selects: asyncpg's fetchval answers Any, and a value of another type would be a bug in the query."""
    value = await conn.fetchval(query, *args)
    if value is None or isinstance(value, kind):
        return value
    raise TypeError(f"a {kind.__name__} was expected, {type(value).__name__} came: {query.strip()[:80]!r}")


class Row(Protocol):
    """A row read by column name: asyncpg's Record, or a row that came as JSON (json_agg) and was
    decoded to a dict. asyncpg's Record is no Mapping (iterating it gives its values, not its keys)."""

    def __getitem__(self, column: str, /) -> Any: ...


class Database:
    """The service's database: the one way to begin a transaction.

    A use case opens it (`async with db.transaction() as conn:`); repository functions take the
    connection and never commit. No network call to another service happens inside one: it would hold
    row locks for as long as the slowest peer answers."""

    def __init__(self, pool: asyncpg.Pool, dsn: str) -> None:
        self.pool = pool
        self.dsn = dsn
        """For the dedicated connections that cannot come from the pool (LISTEN, leader locks)."""

    @asynccontextmanager
    async def transaction(
        self, *, isolation: IsolationLevel | None = None, readonly: bool = False
    ) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection in a transaction, committed on leaving the block, rolled back on an error."""
        async with self.pool.acquire() as conn, conn.transaction(isolation=isolation, readonly=readonly):
            yield as_connection(conn)

    @asynccontextmanager
    async def outside_transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection in autocommit, for the few statements PostgreSQL refuses inside a
        transaction block (ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY). Each statement commits
        on its own: use transaction() for anything else."""
        async with self.pool.acquire() as conn:
            try:
                yield as_connection(conn)
            finally:
                if not conn.is_closed():
                    await conn.reset()  # a session lock or setting left behind would outlive the caller

    async def close(self) -> None:
        await self.pool.close()
