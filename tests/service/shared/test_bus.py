from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import asyncpg

from shared import bus
from shared.db import Database, connect, create_pool
from shared.events import ErasureRequested, ErasureRequestedData, LocationSuspicious, LocationSuspiciousData
from tests.conftest import eventually


def thing(n: int, device_id: str | None = None) -> LocationSuspicious:
    """Any type of the catalogue does; this one carries a number."""
    return LocationSuspicious(
        ts=datetime.now(UTC), device_id=device_id, data=LocationSuspiciousData(implied_speed_mps=n)
    )


async def record(conn: asyncpg.Connection, event: LocationSuspicious, _ctx: object) -> None:
    await conn.execute(
        "INSERT INTO public.handled (event_id, n) VALUES ($1, $2)", event.id, event.data.implied_speed_mps
    )


RECORDER = bus.Consumer(name="test.recorder", types=(LocationSuspicious,), handle=record)


def context_of(pool: asyncpg.Pool, dsn: str) -> SimpleNamespace:
    """What a bus worker needs of its service's context."""
    return SimpleNamespace(db=Database(pool, dsn))


async def prepare(db: asyncpg.Connection, *consumers: bus.Consumer) -> None:
    """Only these consumers subscribe: the services' own (notify's webhooks take every type) are not
    running here, and would keep deliveries of their own."""
    await db.execute("CREATE TABLE public.handled (event_id bigint PRIMARY KEY, n int)")
    await db.execute("DELETE FROM bus.subscriptions")
    await bus.subscribe(db, consumers or (RECORDER,))


async def test_an_event_published_in_a_rolled_back_transaction_never_existed(db: asyncpg.Connection) -> None:
    await prepare(db)
    tx = db.transaction()
    await tx.start()
    await bus.publish(db, "test", [thing(1)])
    await tx.rollback()
    assert await db.fetchval("SELECT count(*) FROM bus.events") == 0
    assert await db.fetchval("SELECT count(*) FROM bus.deliveries") == 0


async def test_two_workers_share_the_events_and_handle_each_exactly_once(db: asyncpg.Connection, db_url: str) -> None:
    await prepare(db)
    pools = [await create_pool(db_url, min_size=1, max_size=3, timeout_s=5) for _ in range(2)]
    workers = [bus.BusWorker(context_of(p, db_url), [RECORDER], poll_s=0.2) for p in pools]
    for w in workers:
        w.start()
    try:
        for batch in range(10):
            async with db.transaction():
                await bus.publish(db, "test", [thing(batch * 20 + i) for i in range(20)])
        await eventually(lambda: db.fetchval("SELECT count(*) = 200 FROM public.handled"))
        await asyncio.sleep(0.3)
        assert await db.fetchval("SELECT count(*) FROM public.handled") == 200
        assert await db.fetchval("SELECT count(*) FROM bus.deliveries") == 0
    finally:
        for w in workers:
            await w.stop()
        for p in pools:
            await p.close()


async def test_a_worker_wakes_for_the_types_its_consumers_take_and_not_for_others(
    db: asyncpg.Connection, db_url: str
) -> None:
    await prepare(db)
    pool = await create_pool(db_url, min_size=1, max_size=3, timeout_s=5)
    worker = bus.BusWorker(context_of(pool, db_url), [RECORDER], poll_s=60)  # no poll within the test
    worker.start()
    try:
        assert worker._listener is not None
        await asyncio.wait_for(worker._listener.connected.wait(), 10)
        await asyncio.sleep(0.3)  # the round every connection starts has found nothing
        # A delivery due for the recorder that no NOTIFY announced: only a round finds it.
        async with db.transaction():
            await bus.publish(db, "test", [thing(7)])
        await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM public.handled"))
        await db.execute(
            """
            WITH e AS (
                INSERT INTO bus.events (source, type, ts, data)
                VALUES ('test', 'location.suspicious', now(), '{"implied_speed_mps": 8}') RETURNING id
            )
            INSERT INTO bus.deliveries (consumer, event_id) SELECT 'test.recorder', id FROM e
            """
        )
        erasure = ErasureRequested(ts=datetime.now(UTC), device_id="dev_1", data=ErasureRequestedData(erasure_id="e1"))
        async with db.transaction():
            await bus.publish(db, "test", [erasure])
        await asyncio.sleep(0.5)
        assert await db.fetchval("SELECT count(*) FROM public.handled") == 1
        async with db.transaction():
            await bus.publish(db, "test", [thing(9), erasure])
        await eventually(lambda: db.fetchval("SELECT count(*) = 3 FROM public.handled"))
    finally:
        await worker.stop()
        await pool.close()


async def test_a_failing_event_is_retried_later_without_holding_up_the_others(
    db: asyncpg.Connection, db_url: str
) -> None:
    calls: list[int] = []

    async def flaky(conn: asyncpg.Connection, event: LocationSuspicious, ctx: object) -> None:
        calls.append(event.data.implied_speed_mps)
        if event.data.implied_speed_mps == 0 and calls.count(0) == 1:
            raise RuntimeError("first attempt fails")
        await record(conn, event, ctx)

    consumer = bus.Consumer(name="test.flaky", types=(LocationSuspicious,), handle=flaky)
    await prepare(db, consumer)
    await bus.publish(db, "test", [thing(0), thing(1)])
    pool = await create_pool(db_url, min_size=1, max_size=2, timeout_s=5)
    try:
        await bus.process_due(Database(pool, db_url), consumer, None)
        assert await db.fetchval("SELECT array_agg(n ORDER BY n) FROM public.handled") == [1]
        row = await db.fetchrow("SELECT attempts, last_error, available_at > now() AS later FROM bus.deliveries")
        assert row["attempts"] == 1 and "first attempt fails" in row["last_error"] and row["later"]
        await db.execute("UPDATE bus.deliveries SET available_at = now()")
        await bus.process_due(Database(pool, db_url), consumer, None)
        assert await db.fetchval("SELECT array_agg(n ORDER BY n) FROM public.handled") == [0, 1]
    finally:
        await pool.close()


async def test_the_feed_never_skips_an_event_whose_transaction_commits_late(
    db: asyncpg.Connection, db_url: str
) -> None:
    slow = await connect(db_url)
    try:
        tx = slow.transaction()
        await tx.start()
        [early] = await bus.publish(slow, "test", [thing(1)])  # smaller id, not yet committed
        [late] = await bus.publish(db, "test", [thing(2)])  # larger id, committed first
        assert late.id > early.id
        assert await bus.feed(db, "test", 0, 10) == []  # showing `late` now would make readers skip `early`
        await tx.commit()
        assert [e.id for e in await bus.feed(db, "test", 0, 10)] == [early.id, late.id]
    finally:
        await slow.close()


async def test_catch_up_applies_a_devices_pending_events_in_the_callers_transaction(db: asyncpg.Connection) -> None:
    await prepare(db)
    await bus.publish(db, "test", [thing(1, "dev_a"), thing(2, "dev_b")])
    async with db.transaction():
        await bus.catch_up(db, RECORDER, "dev_a", None)
    assert await db.fetchval("SELECT array_agg(n) FROM public.handled") == [1]
    assert await db.fetchval("SELECT array_agg(device_id) FROM bus.deliveries") == ["dev_b"]


async def test_a_consumer_subscribed_later_gets_only_what_is_published_after(db: asyncpg.Connection) -> None:
    await db.execute("CREATE TABLE public.handled (event_id bigint PRIMARY KEY, n int)")
    await bus.publish(db, "test", [thing(1)])
    await bus.subscribe(db, [RECORDER])
    await bus.publish(db, "test", [thing(2)])
    assert await db.fetchval("SELECT count(*) FROM bus.deliveries WHERE consumer = 'test.recorder'") == 1


async def purge_now(db_url: str, when: datetime) -> int:
    pool = await create_pool(db_url, min_size=1, max_size=2, timeout_s=5)
    try:
        ctx = SimpleNamespace(db=Database(pool, db_url), settings=SimpleNamespace(event_retention_days=30,
                                                                                event_personal_hours=24))  # fmt: skip
        return await bus.purge(ctx, when)
    finally:
        await pool.close()


async def test_trip_and_order_events_carry_a_name_and_distances_no_longer_than_the_trip_keeps_them(
    db: asyncpg.Connection, db_url: str
) -> None:
    from shared.events import OrderData, OrderLine, OrderReady, TripApproaching, TripData

    trip = TripData(status="approaching", mode="car", display_name="Camille", bay="2", eta_s=240, distance_m=900.0)
    order = OrderData(lines=[OrderLine(sku="A", qty=1)], display_name="Camille")
    now = datetime.now(UTC)
    await bus.publish(db, "geo", [TripApproaching(ts=now, device_id="d", trip_id="t", data=trip)])
    await bus.publish(db, "inventory", [OrderReady(ts=now, device_id="d", order_id="o", data=order)])
    await purge_now(db_url, now + timedelta(hours=23))
    assert [r["data"]["display_name"] for r in await db.fetch("SELECT data FROM bus.events ORDER BY id")] == [
        "Camille",
        "Camille",
    ]
    await purge_now(db_url, now + timedelta(hours=25))
    rows = await db.fetch("SELECT data FROM bus.events ORDER BY id")
    assert [r["data"] for r in rows] == [
        {"status": "approaching", "mode": "car", "display_name": None, "bay": "2"},
        {"lines": [{"sku": "A", "qty": 1}], "display_name": None},
    ]
    assert [e.type for e in await bus.feed(db, "geo", 0, 10)] == ["trip.approaching"]  # still one of its type


async def test_a_consumer_no_service_runs_any_more_stops_pinning_events(db: asyncpg.Connection, db_url: str) -> None:
    await prepare(db)
    await bus.publish(db, "test", [thing(1)])
    later = datetime.now(UTC) + timedelta(days=31)
    await db.execute("UPDATE bus.events SET created_at = now() - interval '31 days'")
    await purge_now(db_url, datetime.now(UTC))  # the consumer was seen just now: the event waits for it
    assert await db.fetchval("SELECT count(*) FROM bus.events") == 1
    await db.execute("UPDATE bus.subscriptions SET seen_at = now() - interval '31 days'")
    await purge_now(db_url, datetime.now(UTC))
    assert await db.fetchval("SELECT count(*) FROM bus.subscriptions") == 0
    await purge_now(db_url, later)
    assert await db.fetchval("SELECT count(*) FROM bus.events") == 0


async def test_a_batch_whose_handlers_write_nothing_takes_one_transaction_id(
    db: asyncpg.Connection, db_url: str
) -> None:
    """The handled deliveries go together, deleted by the transaction that claimed them: deleted in each
    event's savepoint, every event took a subtransaction id, which under a cold fleet left the claims
    and the look for due work reading every dead delivery again."""

    async def look(conn: asyncpg.Connection, event: LocationSuspicious, _ctx: object) -> None:
        await conn.fetchval("SELECT count(*) FROM bus.events WHERE id = $1", event.id)

    consumer = bus.Consumer(name="test.looker", types=(LocationSuspicious,), handle=look)
    await prepare(db, consumer)
    await bus.publish(db, "test", [thing(n) for n in range(bus.BATCH)])
    pool = await create_pool(db_url, min_size=1, max_size=2, timeout_s=5)
    try:
        before = int(await db.fetchval("SELECT pg_current_xact_id()::text"))
        assert await bus.process_due(Database(pool, db_url), consumer, None) == bus.BATCH
        after = int(await db.fetchval("SELECT pg_current_xact_id()::text"))
    finally:
        await pool.close()
    assert after - before - 1 == 1
    assert await db.fetchval("SELECT count(*) FROM bus.deliveries") == 0
