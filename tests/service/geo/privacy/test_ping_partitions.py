"""geo.pings by the hour, on real PostgreSQL: partitions ready before a ping can need one, dropped
whole after the retention (no row deleted), an interrupted retirement finished, erasure and export
across every partition."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest

from services.geo.devices import repository as devices_repo
from services.geo.devices.schemas import PingIn
from services.geo.devices.service import MAX_FUTURE
from services.geo.privacy import repository as repo
from services.geo.privacy import service as privacy
from services.geo.privacy.jobs import maintain_ping_partitions, retire_ping_partitions
from services.geo.privacy.partitions import HEADROOM, HOUR, RETIRE_GRACE, hour_of, name_of, wanted
from shared.db import connect
from tests.conftest import System, eventually
from tests.support.builders import STORE, shopper

DAY = timedelta(hours=24)  # geo's default retention, which these tests run with


async def store(ctx, *pings: tuple[str, datetime]) -> None:
    """Raw pings written as ingestion writes them (devices.repository.write_pings)."""
    rows = [(device, PingIn(lat=STORE["lat"], lng=STORE["lng"], accuracy_m=8.0, ts=ts)) for device, ts in pings]
    async with ctx.db.transaction() as conn:
        await devices_repo.write_pings(conn, rows, [])


async def where(db: asyncpg.Connection, device_id: str) -> list[tuple[datetime, str]]:
    """Each of the device's pings and the partition it lives in."""
    rows = await db.fetch(
        "SELECT ts, tableoid::regclass::text AS part FROM geo.pings WHERE device_id = $1 ORDER BY ts", device_id
    )
    return [(r["ts"], r["part"]) for r in rows]


async def attached(db: asyncpg.Connection) -> set[str]:
    return {r["name"] for r in await repo.ping_partitions(db) if r["attached"]}


async def exists(db: asyncpg.Connection, name: str) -> bool:
    return await db.fetchval("SELECT to_regclass($1)", f"geo.{name}") is not None


async def test_geo_starts_with_a_partition_for_every_hour_a_ping_may_be_stamped_with(system: System, db) -> None:
    await system.running.stop("geo")
    for r in await repo.ping_partitions(db):  # as if the install were new and the migration's were gone
        await db.execute(f"DROP TABLE geo.{r['name']}")
    assert await attached(db) == set()
    before = datetime.now(UTC)
    await system.running.start("geo")
    after = datetime.now(UTC)
    window = set(wanted(before, DAY, MAX_FUTURE)) & set(wanted(after, DAY, MAX_FUTURE))
    assert {name_of(h) for h in window} <= await attached(db)

    who = await shopper(system, location=True)
    now = datetime.now(UTC)
    oldest, newest = now - DAY + timedelta(minutes=1), now + MAX_FUTURE - timedelta(seconds=1)
    pings = [
        {"lat": STORE["lat"], "lng": STORE["lng"], "accuracy_m": 8.0, "ts": t.isoformat()} for t in (oldest, newest)
    ]
    r = await system.geo.post("/v1/pings", json={"pings": pings}, headers=who.auth)
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2
    assert [part for _, part in await where(db, who.device_id)] == [f"geo.{name_of(oldest)}", f"geo.{name_of(newest)}"]


async def test_after_the_job_a_ping_just_past_an_hour_boundary_finds_its_partition(system: System, db) -> None:
    ctx = system.running.state("geo")
    boundary = hour_of(datetime.now(UTC)) + 2 * DAY  # beyond anything startup added
    with pytest.raises(asyncpg.CheckViolationError, match="no partition"):  # what a missing partition does
        await store(ctx, ("dev-a", boundary))

    job_ran = boundary - timedelta(seconds=1)
    await maintain_ping_partitions(ctx, job_ran)
    just_after = boundary + timedelta(microseconds=1)
    future_bound = job_ran + MAX_FUTURE  # the newest ts accepted at that moment
    last_safe = job_ran + HEADROOM + MAX_FUTURE - timedelta(seconds=1)  # the same, had the job then stopped
    await store(ctx, ("dev-a", just_after), ("dev-a", future_bound), ("dev-a", last_safe))
    assert await where(db, "dev-a") == [
        (just_after, f"geo.{name_of(boundary)}"),
        (future_bound, f"geo.{name_of(boundary)}"),
        (last_safe, f"geo.{name_of(last_safe)}"),
    ]
    assert name_of(last_safe) == name_of(boundary + 6 * HOUR)


async def test_retention_drops_an_hours_partition_whole_and_deletes_no_row(system: System, db) -> None:
    ctx = system.running.state("geo")
    now = datetime.now(UTC)
    old, recent = now - 20 * HOUR, now - timedelta(minutes=1)
    await store(ctx, ("dev-a", old), ("dev-b", old + timedelta(seconds=1)), ("dev-a", recent), ("control", recent))
    await db.execute(
        """
        CREATE TABLE public.deleted_pings (device_id text);
        CREATE FUNCTION public.count_deleted_ping() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN INSERT INTO public.deleted_pings VALUES (OLD.device_id); RETURN NULL; END $$;
        """
    )
    for name in await attached(db):  # on each partition itself: a trigger cloned from geo.pings goes at detach
        count = "FOR EACH ROW EXECUTE FUNCTION public.count_deleted_ping()"
        await db.execute(f"CREATE TRIGGER counted AFTER DELETE ON geo.{name} {count}")
    async with ctx.db.transaction() as conn:  # seen first: a row deleted is counted, as erasure deletes
        await conn.execute("DELETE FROM geo.pings WHERE device_id = 'control'")
    assert await db.fetchval("SELECT array_agg(device_id) FROM public.deleted_pings") == ["control"]

    due = hour_of(old) + HOUR + DAY + RETIRE_GRACE
    await retire_ping_partitions(ctx, due - timedelta(microseconds=1))  # the hours before it go
    assert await exists(db, name_of(old))  # a microsecond early: its last instant is not yet old enough
    assert await retire_ping_partitions(ctx, due) == 1
    assert not await exists(db, name_of(old))
    assert name_of(old) not in {r["name"] for r in await repo.ping_partitions(db)}
    assert not await db.fetchval(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'geo.pings'::regclass AND inhrelid::regclass::text = $1",
        f"geo.{name_of(old)}",
    )
    assert await where(db, "dev-a") == [(recent, f"geo.{name_of(recent)}")]
    assert await where(db, "dev-b") == []
    assert await db.fetchval("SELECT array_agg(device_id) FROM public.deleted_pings") == ["control"]

    # The statistics say the same once geo's connections have closed and reported: the one delete seen
    # is the control's, and no other partition had a row deleted.
    await system.running.stop("geo")

    async def deletes() -> dict[str, int] | None:
        rows = await db.fetch(
            "SELECT relname, n_tup_del FROM pg_stat_user_tables WHERE schemaname = 'geo' AND relname ~ '^pings_p'"
        )
        counts = {r["relname"]: r["n_tup_del"] for r in rows}
        return counts if counts.get(name_of(recent)) == 1 else None

    counts = await eventually(deletes, timeout=15)
    assert len(counts) > 1
    assert {name: n for name, n in counts.items() if n} == {name_of(recent): 1}


async def test_an_interrupted_detach_is_finished_and_a_table_left_detached_is_dropped(
    system: System, db, db_url: str
) -> None:
    ctx = system.running.state("geo")
    now = datetime.now(UTC)
    first, second = wanted(now, DAY, MAX_FUTURE)[:2]
    await store(ctx, ("dev-a", first + HOUR - timedelta(seconds=1)), ("dev-a", second))
    # A run stopped between the detach and the drop of `second`.
    await db.execute(f"ALTER TABLE geo.pings DETACH PARTITION geo.{name_of(second)}")
    # A run whose detach of `first` gave up waiting for a transaction still reading pings.
    reader = await connect(db_url)
    try:
        async with reader.transaction():
            await reader.fetchval("SELECT count(*) FROM geo.pings")
            async with ctx.db.outside_transaction() as conn:
                with pytest.raises(asyncio.TimeoutError):
                    await conn.execute(
                        f"ALTER TABLE geo.pings DETACH PARTITION geo.{name_of(first)} CONCURRENTLY", timeout=1
                    )
    finally:
        await reader.close()
    states = {r["name"]: (r["attached"], r["detach_pending"]) for r in await repo.ping_partitions(db)}
    assert states[name_of(first)] == (True, True) and states[name_of(second)] == (False, False)

    await maintain_ping_partitions(ctx, second + HOUR + DAY + RETIRE_GRACE)
    assert not await exists(db, name_of(first)) and not await exists(db, name_of(second))
    assert await where(db, "dev-a") == []


async def test_erasure_removes_one_devices_pings_from_every_partition_and_no_one_elses(system: System, db) -> None:
    ctx = system.running.state("geo")
    now = datetime.now(UTC)
    times = [now - 20 * HOUR, now - 2 * HOUR, now - timedelta(minutes=1)]
    await store(ctx, *[(device, t) for t in times for device in ("dev-a", "dev-b")])
    parts = [f"geo.{name_of(t)}" for t in times]
    assert await where(db, "dev-a") == list(zip(times, parts, strict=True)) and len(set(parts)) == 3

    export = b"".join([chunk async for chunk in privacy.device_data(ctx, "dev-a")])
    pings = msgspec.json.decode(export)["pings"]  # the export reads them all, oldest first
    assert [datetime.fromisoformat(p["ts"]) for p in pings] == times

    async with ctx.db.transaction() as conn:
        await devices_repo.erase_device(conn, "dev-a")
    assert await where(db, "dev-a") == []
    assert await where(db, "dev-b") == list(zip(times, parts, strict=True))
