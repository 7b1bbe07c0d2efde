"""The event bus on PostgreSQL: transactional outbox, fan-out to consumers, LISTEN/NOTIFY wake-up.

Why not a queue library (pgqueuer was evaluated): we need a durable, ordered event *log* (the public
event feed, exports) with fan-out to several consumers, and a consumer's effects must commit in the
same transaction as its claim of the event. pgqueuer is a job queue: it acknowledges a job on its own
connection, separately from the handler's writes, and deletes finished jobs, so we would still need
the log and an idempotency table beside it. Here a delivery row is deleted in the handler's own
transaction: a handler's database effects happen exactly once, even across crashes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

from shared.db import UNAVAILABLE, Database, affected_rows
from shared.events import EVENT_TYPES, AnyEvent, Event, type_of
from shared.jobs import Job
from shared.listener import Listener
from shared.wake_loop import WakeLoop

if TYPE_CHECKING:
    from shared.context import Context

log = logging.getLogger("accueil.bus")

CHANNEL = "accueil_bus"
BATCH = 50
MAX_BACKOFF_S = 300
SEEN_EVERY_S = 600
STOP_GRACE_S = 10

# A handler gets the claiming transaction's connection, the decoded event, and its service's context.
Handler = Callable[[asyncpg.Connection, Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Consumer:
    """A named subscriber, declared once per service: its handler runs in the transaction that claims
    the event, and receives it decoded as one of the `types` (event classes of shared.events)."""

    name: str
    types: tuple[type[Event], ...]
    handle: Handler

    @property
    def type_names(self) -> list[str]:
        return [type_of(t) for t in self.types]


_EVENT_COLUMNS = "e.id, e.type, e.ts, e.device_id, e.store_id, e.zone_id, e.trip_id, e.order_id, e.data"


def _to_event(row: asyncpg.Record) -> Event:
    """A stored event, decoded into its type from the catalogue."""
    event: Event = msgspec.convert(dict(row.items()), AnyEvent)
    return event


async def publish(
    conn: asyncpg.Connection, source: str, events: Sequence[Event], *, read_back: bool = True
) -> list[Event]:
    """Write events and their deliveries in the caller's transaction; consumers wake on commit.
    Returns the stored events (with their ids), unless read_back is False: a bulk writer that does not
    need them saves decoding every row it just wrote (most of the cost at 100,000 events)."""
    if not events:
        return []
    answer = f"SELECT {_EVENT_COLUMNS} FROM e ORDER BY e.id" if read_back else "SELECT count(*) FROM e"
    types = [type_of(type(e)) for e in events]
    rows = await conn.fetch(
        f"""
        WITH e AS (
            INSERT INTO bus.events (source, type, ts, device_id, store_id, zone_id, trip_id, order_id, data)
            SELECT $1, type, ts, device_id, store_id, zone_id, trip_id, order_id, data
            FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
                        $8::text[], $9::jsonb[])
                 WITH ORDINALITY AS n(type, ts, device_id, store_id, zone_id, trip_id, order_id, data, ord)
            ORDER BY ord
            RETURNING *
        ), fan_out AS (
            INSERT INTO bus.deliveries (consumer, event_id, device_id)
            SELECT s.consumer, e.id, e.device_id
            FROM e JOIN bus.subscriptions s ON e.type = ANY (s.types)
        )
        {answer}
        """,
        source,
        types,
        [e.ts for e in events],
        [e.device_id for e in events],
        [e.store_id for e in events],
        [e.zone_id for e in events],
        [e.trip_id for e in events],
        [e.order_id for e in events],
        [e.data for e in events],
    )
    # The types published: each service's worker wakes only for those its consumers take.
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, ",".join(sorted(set(types))))
    return [_to_event(r) for r in rows] if read_back else []


async def subscribe(conn: asyncpg.Connection, consumers: Sequence[Consumer]) -> None:
    """Register consumers, so events published from now on are kept for them even while they are down."""
    for consumer in consumers:
        await conn.execute(
            """
            INSERT INTO bus.subscriptions (consumer, types) VALUES ($1, $2)
            ON CONFLICT (consumer) DO UPDATE SET types = excluded.types, seen_at = now()
            """,
            consumer.name,
            consumer.type_names,
        )


async def feed(conn: asyncpg.Connection, source: str, after: int, limit: int) -> list[Event]:
    """Events of one source, oldest first, never skipping one whose transaction is still committing."""
    rows = await conn.fetch(
        f"""
        SELECT {_EVENT_COLUMNS}
        FROM bus.events e
        WHERE e.source = $1 AND e.id > $2
          AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY e.id
        LIMIT $3
        """,
        source,
        after,
        limit,
    )
    return [_to_event(r) for r in rows]


async def events_of_device_at(
    conn: asyncpg.Connection, source: str, device_id: str, at: Sequence[datetime]
) -> list[Event]:
    """A source's events about a device at given times, oldest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_EVENT_COLUMNS} FROM bus.events e
        WHERE e.device_id = $1 AND e.source = $2 AND e.ts = ANY ($3::timestamptz[])
        ORDER BY e.id
        """,
        device_id,
        source,
        list(at),
    )
    return [_to_event(r) for r in rows]


@dataclass(frozen=True)
class Logged:
    """An event of the log, and when it was published (a late upload is published long after it happened)."""

    event: Event
    published_at: datetime


async def happened_between(
    conn: asyncpg.Connection,
    types: Sequence[str],
    since: datetime,
    until: datetime,
    store_id: str | None = None,
    device_ids: Sequence[str] | None = None,
) -> list[Logged]:
    """Events of these types that happened in [since, until), at one store and of these devices if
    given, oldest first: the history a dry run replays (only what the log still keeps:
    ACCUEIL_EVENT_RETENTION_DAYS)."""
    rows = await conn.fetch(
        f"""
        SELECT {_EVENT_COLUMNS}, e.created_at
        FROM bus.events e
        WHERE e.type = ANY ($1::text[]) AND e.ts >= $2 AND e.ts < $3
          AND ($4::text IS NULL OR e.store_id = $4)
          AND ($5::text[] IS NULL OR e.device_id = ANY ($5::text[]))
        ORDER BY e.id
        """,
        list(types),
        since,
        until,
        store_id,
        None if device_ids is None else list(device_ids),
    )
    return [Logged(_to_event(r), r["created_at"]) for r in rows]


async def events_by_id(conn: asyncpg.Connection, ids: Sequence[int]) -> list[Event]:
    """Events by their ids, oldest first (those still in the log)."""
    rows = await conn.fetch(
        f"SELECT {_EVENT_COLUMNS} FROM bus.events e WHERE e.id = ANY ($1::bigint[]) ORDER BY e.id", list(ids)
    )
    return [_to_event(r) for r in rows]


async def _handle_claimed(
    conn: asyncpg.Connection, consumer: Consumer, rows: list[asyncpg.Record], ctx: Context
) -> int:
    """Run the handler for each claimed delivery, each in a savepoint; return how many succeeded.

    The deliveries handled are deleted together, after the loop, by the transaction that claimed them.
    Deleted one by one inside each savepoint, every event took a subtransaction id of its own (51 for
    a batch of 50), and under a cold fleet's zone events the claims and the look for due work kept
    reading a busy consumer's dead deliveries until the next vacuum: 2-27 ms a statement, more than
    half of PostgreSQL's CPU, where they now take under 0.1 ms."""
    done: list[int] = []
    for row in rows:
        event = _to_event(row)
        try:
            async with conn.transaction():  # a savepoint: a failing event does not undo the others
                await consumer.handle(conn, event, ctx)
            done.append(event.id)
        except UNAVAILABLE:
            raise
        except Exception as exc:  # the handler's bug or a dependency's outage: retry later, keep going
            log.warning("consumer %s failed on event %s (%s): %r", consumer.name, event.id, event.type, exc)
            await conn.execute(
                """
                UPDATE bus.deliveries
                SET attempts = attempts + 1,
                    available_at = now() + make_interval(secs => least(power(2, attempts), $3)),
                    last_error = $4
                WHERE consumer = $1 AND event_id = $2
                """,
                consumer.name,
                event.id,
                MAX_BACKOFF_S,
                repr(exc)[:500],
            )
    if done:
        await conn.execute(
            "DELETE FROM bus.deliveries WHERE consumer = $1 AND event_id = ANY ($2::bigint[])", consumer.name, done
        )
    return len(done)


async def process_due(db: Database, consumer: Consumer, ctx: Context, limit: int = BATCH) -> int:
    """Claim and handle one batch of due deliveries; return how many were claimed."""
    async with db.transaction() as conn:
        rows = await conn.fetch(
            f"""
            SELECT {_EVENT_COLUMNS}
            FROM bus.deliveries d JOIN bus.events e ON e.id = d.event_id
            WHERE d.consumer = $1 AND d.available_at <= now()
            ORDER BY d.event_id
            LIMIT $2
            FOR UPDATE OF d SKIP LOCKED
            """,
            consumer.name,
            limit,
        )
        await _handle_claimed(conn, consumer, list(rows), ctx)
        return len(rows)


async def due_consumers(db: Database, names: Sequence[str]) -> set[str]:
    """Those of the named consumers that have a delivery due: one statement where claiming for each
    in turn costs a transaction each."""
    async with db.transaction(readonly=True) as conn:
        rows = await conn.fetch(
            """
            SELECT c.name
            FROM unnest($1::text[]) AS c (name)
            WHERE EXISTS (SELECT 1 FROM bus.deliveries d WHERE d.consumer = c.name AND d.available_at <= now())
            """,
            list(names),
        )
    return {r["name"] for r in rows}


async def catch_up(conn: asyncpg.Connection, consumer: Consumer, device_id: str, ctx: Context) -> None:
    """Handle, in the caller's transaction, whatever this consumer has pending for one device.

    Read-your-writes across services: a ping that arrives after notify committed a consent change
    must see it, even if the background worker has not got to that event yet. A delivery the worker
    holds right now is waited for (FOR UPDATE), then is gone.
    """
    rows = await conn.fetch(
        f"""
        SELECT {_EVENT_COLUMNS}
        FROM bus.deliveries d JOIN bus.events e ON e.id = d.event_id
        WHERE d.consumer = $1 AND d.device_id = $2
        ORDER BY d.event_id
        FOR UPDATE OF d
        """,
        consumer.name,
        device_id,
    )
    if rows:
        await _handle_claimed(conn, consumer, list(rows), ctx)


class BusWorker:
    """Runs a service's consumers: woken by NOTIFY, with a slow poll as the safety net."""

    def __init__(self, ctx: Context, consumers: Sequence[Consumer], poll_s: float) -> None:
        self._ctx = ctx
        self._consumers = list(consumers)
        self._poll_s = poll_s
        self._loop = WakeLoop(self._round, name="bus-run", log=log, what="bus worker")
        self._seen_at = -math.inf
        self._listener: Listener | None = None
        self._types = frozenset(name for c in self._consumers for name in c.type_names)

    def start(self) -> None:
        if not self._consumers:
            return
        # Every connection (the first, and after a database restart) also wakes the worker: events
        # published while nobody listened are caught up at once.
        self._listener = Listener(
            self._ctx.db.dsn, {CHANNEL: self._heard}, on_connect=[self._loop.wake], name="bus-listen"
        )
        self._listener.start()
        self._loop.start()

    def _heard(self, payload: str) -> None:
        """Events were published: a round if this service's consumers take one of their types. Every
        publish reaches every service's listener, and a round costs a statement at least; a fleet's
        zone events, for notify, made geo's and inventory's workers look for work at each commit. A
        payload that names no event type (from an older publisher) wakes the worker all the same."""
        published = payload.split(",")
        if not self._types.isdisjoint(published) or not all(name in EVENT_TYPES for name in published):
            self._loop.wake()

    async def stop(self) -> None:
        """Let the batch in hand finish (its transaction commits), then stop."""
        try:
            await self._loop.stop(STOP_GRACE_S)  # past the grace, the batch is cancelled and rolls back
        except asyncio.CancelledError:
            pass  # a stop cut short still closes the listening connection
        if self._listener is not None:
            await self._listener.stop()

    async def _still_here(self) -> None:
        """Say the consumers run (bus.purge forgets those no service runs any more); re-registered if a
        long outage had them forgotten."""
        now = time.monotonic()
        if now - self._seen_at < SEEN_EVERY_S:
            return
        async with self._ctx.db.transaction() as conn:
            await subscribe(conn, self._consumers)
        self._seen_at = now

    async def _round(self) -> float | None:
        """One batch for each consumer that has a delivery due, in the order they were declared (a
        service's replicas before the consumers that read them); a consumer that fails does not hold up
        the others.

        Only those with a delivery due, found in one statement: every event published wakes every
        service's worker, and claiming for each consumer in turn took a transaction each, three of them
        in notify before a shopper's offer was decided (the wait of a ping to its push), nine a round."""
        try:
            await self._still_here()
        except UNAVAILABLE:
            pass  # the statement below waits for the database
        due = await due_consumers(self._ctx.db, [c.name for c in self._consumers])
        busy = False
        for consumer in self._consumers:
            if self._loop.stopping:  # finish the batch in hand, claim no other
                break
            if consumer.name not in due:
                continue
            try:
                busy |= await process_due(self._ctx.db, consumer, self._ctx) > 0
            except Exception as exc:
                await self._loop.step_failed(exc, consumer.name)
        return None if busy else self._poll_s


def holds_personal(event_type: str, data: str) -> str:
    """SQL condition on an event's type and `data` (jsonb expressions): a trip's or an order's payload
    that still names the shopper or says how far away they are. With without_personal, the one rule for
    the event log and every copy of its events (notify's webhook payloads)."""
    personal = f"({data} ->> 'display_name' IS NOT NULL OR {data} ? 'distance_m' OR {data} ? 'eta_s')"
    return f"(({event_type} LIKE 'trip.%' OR {event_type} LIKE 'order.%') AND {personal})"


def without_personal(data: str) -> str:
    """SQL: that payload with the display name null (the field is always written), distance and ETA gone."""
    return f"jsonb_set({data} - 'distance_m' - 'eta_s', '{{display_name}}', 'null')"


def personal_cutoff(ctx: Context, now: datetime) -> datetime:
    """Events published before this keep no personal field (ACCUEIL_EVENT_PERSONAL_HOURS)."""
    return now - timedelta(hours=ctx.settings.event_personal_hours)


async def purge(ctx: Context, now: datetime) -> int:
    """Delete delivered events older than the retention period, and the history of job ticks; blank
    the personal fields of older trip and order events; forget consumers no service has run for the
    retention period (their waiting deliveries would pin events forever). A trip's or an order's event
    keeps the shopper's display name, distance and ETA no longer than geo keeps them on the trip
    (ACCUEIL_EVENT_PERSONAL_HOURS); the event itself stays for the feed. An event some running
    consumer has not had yet is kept, however old: deleting it would lose it."""
    cutoff = now - timedelta(days=ctx.settings.event_retention_days)
    async with ctx.db.transaction() as conn:
        forgotten: int = await conn.fetchval(
            "WITH gone AS (DELETE FROM bus.subscriptions WHERE seen_at < $1 RETURNING 1) SELECT count(*) FROM gone",
            cutoff,
        )
        blanked: int = await conn.fetchval(
            f"""
            WITH blanked AS (
                UPDATE bus.events
                SET data = {without_personal("data")}
                WHERE created_at < $1 AND {holds_personal("type", "data")}
                RETURNING 1
            )
            SELECT count(*) FROM blanked
            """,
            personal_cutoff(ctx, now),
        )
        deleted: int = await conn.fetchval(
            """
            WITH gone AS (
                DELETE FROM bus.events e
                WHERE e.created_at < $1
                  AND NOT EXISTS (SELECT 1 FROM bus.deliveries d WHERE d.event_id = e.id)
                RETURNING 1
            )
            SELECT count(*) FROM gone
            """,
            cutoff,
        )
        await conn.execute("DELETE FROM bus.job_runs WHERE tick < $1", now - timedelta(days=1))
    return forgotten + blanked + deleted


# Every service schedules it; like every job it runs once per tick across all of them.
RETENTION = Job("bus.retention", 3600, purge)


async def forget_device(conn: asyncpg.Connection, device_id: str) -> int:
    """Erasure: the event log holds where a device went, so its events go too (with any delivery
    still waiting for them)."""
    status = await conn.execute("DELETE FROM bus.events WHERE device_id = $1", device_id)
    return affected_rows(status)
