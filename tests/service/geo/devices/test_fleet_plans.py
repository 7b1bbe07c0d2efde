"""The statements of an upload group find a fleet's devices by key, whatever the fleet's size.

geo's connections plan each statement once (plan_cache_mode): a plan that read every device to change
the few of a group would cost a large fleet on every upload, so the plans themselves are checked here,
against a fleet of 20,000 devices the planner knows about.
"""

from __future__ import annotations

from services.geo.devices import repository as repo
from tests.conftest import System

FLEET = 20_000

WRITE_ARGS = """ARRAY['dev-1'], ARRAY[now()], ARRAY[48.85::float8], ARRAY[2.35::float8], ARRAY[8::float4],
    ARRAY[NULL::float4], ARRAY[NULL::float4], '[{"device_id": "dev-1"}]'::json, ARRAY['dev-1']"""


async def plan_of(conn, statement: str, args: str) -> str:
    await conn.execute(f"PREPARE checked AS {statement}")
    try:
        rows = await conn.fetch(f"EXPLAIN EXECUTE checked({args})")
    finally:
        await conn.execute("DEALLOCATE checked")
    return "\n".join(r[0] for r in rows)


async def test_a_groups_lock_and_write_never_read_the_whole_fleet(system: System, db) -> None:
    await db.execute(f"INSERT INTO geo.devices (device_id) SELECT 'dev-' || n FROM generate_series(1, {FLEET}) n")
    await db.execute("ANALYZE geo.devices")
    ctx = system.running.state("geo")
    async with ctx.db.transaction() as conn:
        assert await conn.fetchval("SHOW plan_cache_mode") == "force_generic_plan"
        write = await plan_of(conn, repo._WRITE_PINGS_AND_CURSORS, WRITE_ARGS)
        lock = await plan_of(conn, repo._LOCK, f"ARRAY['dev-1'], '{repo.CONSENT_CONSUMER}'")
    for plan in (write, lock):
        assert "Seq Scan on devices" not in plan, plan
        assert "devices_pkey" in plan, plan
