"""Migrations on PostgreSQL: two processes at once apply each file once (readiness on the running
services: tests/system/test_migrations.py)."""

from __future__ import annotations

import asyncio

import asyncpg

from shared import migrations
from shared.cli import service_spec
from shared.settings import SERVICES
from tests.conftest import with_database


async def test_two_processes_migrating_a_fresh_database_at_once_apply_each_file_once(server_dsn: str) -> None:
    admin = await asyncpg.connect(with_database(server_dsn, "postgres"))
    await admin.execute("DROP DATABASE IF EXISTS accueil_migrate_race WITH (FORCE)")
    await admin.execute("CREATE DATABASE accueil_migrate_race")
    try:
        url = with_database(server_dsn, "accueil_migrate_race")
        sets = [migrations.BUS] + [service_spec(s).migrations for s in SERVICES]
        a, b = await asyncpg.connect(url), await asyncpg.connect(url)
        try:
            applied_a, applied_b = await asyncio.gather(migrations.apply(a, sets), migrations.apply(b, sets))
            assert sorted(applied_a + applied_b) == sorted({*applied_a, *applied_b})  # nothing twice
            assert len(applied_a + applied_b) == sum(len(s.load()) for s in sets)
            assert await migrations.pending(a, sets) == []
            assert await migrations.apply(a, sets) == []  # idempotent
        finally:
            await a.close()
            await b.close()
    finally:
        await admin.execute("DROP DATABASE IF EXISTS accueil_migrate_race WITH (FORCE)")
        await admin.close()
