"""The SQL of raw pings' storage: geo.pings' hourly partitions, added ahead and retired whole (the plan:
privacy.partitions). Schema changes only: the rows are devices' (devices.repository)."""

from __future__ import annotations

import re
from datetime import datetime

import asyncpg

_PARTITIONS_LOCK = 0x67656F70696E6773  # "geopings": one maintainer of the partitions at a time
_PARTITION_NAME = re.compile(r"^pings_p[0-9]{10}$")


def _partition(name: str) -> str:
    """The qualified name of one of our partitions: names are checked before they reach DDL."""
    if not _PARTITION_NAME.match(name):
        raise ValueError(f"not a ping partition: {name!r}")
    return f"geo.{name}"


async def ping_partitions(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """The tables named like ping partitions: attached to geo.pings (detach_pending: a DETACH ...
    CONCURRENTLY was interrupted), or no longer (detached, not yet dropped)."""
    return await conn.fetch(
        """
        SELECT c.relname AS name,
               i.inhrelid IS NOT NULL AS attached,
               coalesce(i.inhdetachpending, false) AS detach_pending
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'geo.pings'::regclass
        WHERE n.nspname = 'geo' AND c.relkind = 'r' AND c.relname ~ '^pings_p[0-9]{10}$'
        ORDER BY c.relname
        """
    )


async def lock_ping_partitions(conn: asyncpg.Connection) -> None:
    """Until the transaction ends, no other process adds or retires partitions (replicas starting
    together would otherwise race to create the same table)."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _PARTITIONS_LOCK)


async def try_lock_ping_partitions(conn: asyncpg.Connection) -> bool:
    """The same lock for a connection outside any transaction, held until unlock_ping_partitions:
    False when another process holds it (it is doing the work)."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", _PARTITIONS_LOCK))


async def unlock_ping_partitions(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", _PARTITIONS_LOCK)


async def add_ping_partition(conn: asyncpg.Connection, name: str, start: datetime, end: datetime) -> None:
    """Give geo.pings the partition for [start, end).

    Created apart, then attached: CREATE TABLE ... PARTITION OF would hold an ACCESS EXCLUSIVE lock
    on geo.pings, queueing every insert behind the slowest transaction reading pings; ATTACH PARTITION
    takes SHARE UPDATE EXCLUSIVE, which inserts and reads do not wait for. The table is empty, so the
    check of its rows against the bounds reads nothing, and ATTACH builds its primary key index."""
    table = _partition(name)
    await conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (LIKE geo.pings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    bounds = f"FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    await conn.execute(f"ALTER TABLE geo.pings ATTACH PARTITION {table} FOR VALUES {bounds}")


DETACH_TIMEOUT_S = 300
"""How long a detach may wait for the transactions that still see the partition. Past it the detach
is left pending; the next run finishes it (FINALIZE)."""


async def detach_ping_partition(conn: asyncpg.Connection, name: str, *, pending: bool) -> None:
    """Take the partition out of geo.pings without blocking inserts or reads: CONCURRENTLY waits for
    the transactions using it instead of locking them out. It cannot run inside a transaction block:
    `conn` must come from Database.outside_transaction(). `pending`: a DETACH CONCURRENTLY of this
    partition was interrupted; only FINALIZE may complete it."""
    if conn.is_in_transaction():
        raise RuntimeError("DETACH PARTITION CONCURRENTLY cannot run inside a transaction block")
    how = "FINALIZE" if pending else "CONCURRENTLY"
    await conn.execute(f"ALTER TABLE geo.pings DETACH PARTITION {_partition(name)} {how}", timeout=DETACH_TIMEOUT_S)


async def drop_ping_partition(conn: asyncpg.Connection, name: str) -> None:
    """Drop a detached partition: its pings go at once, with no row deleted and nothing to vacuum."""
    await conn.execute(f"DROP TABLE IF EXISTS {_partition(name)}")
