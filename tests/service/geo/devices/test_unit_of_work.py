"""locked_devices, the one way geo changes devices: what it locks, whom it admits, what it writes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from services.geo.devices import progress
from services.geo.devices.consumers import CONSENTS
from services.geo.devices.presence import Fix, Rules
from services.geo.devices.unit_of_work import locked_devices
from shared.geodesy import destination
from tests.conftest import System
from tests.support.builders import STORE, create_store, shopper

RULES = Rules()


def walk_in(start: datetime) -> list[Fix]:
    """From 300 m north of the store to its centre, walking (1.5 m/s)."""
    return [
        Fix(start + timedelta(seconds=20 * i), *destination(STORE["lat"], STORE["lng"], 0, d), accuracy_m=8.0)
        for i, d in enumerate(range(300, -1, -30))
    ]


async def test_several_devices_are_changed_and_written_in_one_unit(system: System, db) -> None:
    await create_store(system)
    ctx = system.running.state("geo")
    start = datetime.now(UTC) - timedelta(minutes=6)
    async with ctx.db.transaction() as conn, locked_devices(ctx, conn, ["dev-b", "dev-a"]) as batch:
        assert sorted(batch.devices) == ["dev-a", "dev-b"]
        for device in batch.devices.values():
            for fix in walk_in(start):
                device.apply_fix(fix, ctx.zones.index, RULES, 300)
    assert [(e.type, e.device_id) for e in batch.published] == [("zone.entered", "dev-a"), ("zone.entered", "dev-b")]
    assert all(e.id is not None for e in batch.published)
    visits = await db.fetch("SELECT device_id, zone_id, via FROM geo.visits ORDER BY device_id")
    assert [tuple(v) for v in visits] == [("dev-a", "main", "gps"), ("dev-b", "main", "gps")]
    cursors = await db.fetch("SELECT device_id, last_ts, last_fix FROM geo.devices ORDER BY device_id")
    assert [c["last_ts"] for c in cursors] == [walk_in(start)[-1].ts] * 2
    assert all(c["last_fix"]["lat"] == pytest.approx(STORE["lat"]) for c in cursors)


async def test_nothing_changed_writes_nothing_and_an_error_writes_nothing_either(system: System, db) -> None:
    await create_store(system)
    ctx = system.running.state("geo")
    async with ctx.db.transaction() as conn, locked_devices(ctx, conn, ["dev-a"]) as batch:
        pass
    assert batch.published == []
    assert await db.fetchval("SELECT last_ts FROM geo.devices WHERE device_id = 'dev-a'") is None
    with pytest.raises(RuntimeError):
        async with ctx.db.transaction() as conn, locked_devices(ctx, conn, ["dev-a"]) as batch:
            for fix in walk_in(datetime.now(UTC) - timedelta(minutes=2)):
                batch.devices["dev-a"].apply_fix(fix, ctx.zones.index, RULES, 300)
            raise RuntimeError("the caller gave up")
    assert await db.fetchval("SELECT count(*) FROM geo.visits") == 0
    assert await db.fetchval("SELECT array_agg(type) FROM bus.events WHERE source = 'geo'") == ["store.changed"]


async def test_a_busy_device_is_left_out_with_skip_locked_and_waited_for_without(system: System) -> None:
    ctx = system.running.state("geo")
    async with ctx.db.transaction() as conn, locked_devices(ctx, conn, ["busy", "free"]):
        pass  # both have a row now
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with ctx.db.transaction() as conn, locked_devices(ctx, conn, ["busy"]):
            holding.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await holding.wait()
    async with ctx.db.transaction() as conn, locked_devices(ctx, conn, ["busy", "free"], skip_locked=True) as batch:
        assert list(batch.devices) == ["free"]

    async def wait_for_busy() -> list[str]:
        async with ctx.db.transaction() as conn, locked_devices(ctx, conn, ["busy"]) as batch:
            return list(batch.devices)

    waiter = asyncio.create_task(wait_for_busy())
    await asyncio.sleep(0.2)
    assert not waiter.done()
    release.set()
    assert await waiter == ["busy"]
    await holder


async def test_a_device_without_a_row_gets_one_unless_told_otherwise(system: System, db) -> None:
    ctx = system.running.state("geo")
    async with ctx.db.transaction() as conn:
        async with locked_devices(ctx, conn, ["never-seen"], create=False) as batch:
            assert batch.devices == {}
        async with locked_devices(ctx, conn, ["never-seen"], skip_locked=True) as batch:
            assert batch.devices == {}
    assert await db.fetchval("SELECT count(*) FROM geo.devices") == 0
    async with ctx.db.transaction() as conn, locked_devices(ctx, conn, ["never-seen"]) as batch:
        assert list(batch.devices) == ["never-seen"]
    assert await db.fetchval("SELECT count(*) FROM geo.devices") == 1


async def test_with_consents_only_devices_whose_location_may_be_processed_are_admitted(system: System, db) -> None:
    ctx = system.running.state("geo")
    yes = (await shopper(system, location=True)).device_id
    no = (await shopper(system, location=False)).device_id
    async with ctx.db.transaction() as conn, locked_devices(ctx, conn, [yes, no], consents=CONSENTS) as batch:
        # The consents notify published a moment ago count, whether geo's worker got to them or not.
        assert list(batch.devices) == [yes]
        assert batch.devices[yes].location_consented
    assert [r["device_id"] for r in await db.fetch("SELECT device_id FROM geo.devices")] == [yes]


async def test_the_database_and_the_rules_agree_on_what_an_active_trip_is(db) -> None:
    statuses = [*progress.ACTIVE, *progress.ENDED]
    rows = await db.fetch("SELECT s, geo.trip_is_active(s) AS active FROM unnest($1::text[]) AS s", statuses)
    assert [r["s"] for r in rows if r["active"]] == list(progress.ACTIVE)
