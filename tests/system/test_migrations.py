"""Readiness follows the migrations on the running services (applying them:
tests/service/shared/test_migrations.py)."""

from __future__ import annotations

import httpx

from tests.conftest import RunningServices


async def test_readyz_is_503_while_a_migration_is_missing(running: RunningServices, db) -> None:
    url = running.settings.url_of("geo")
    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/readyz")).status_code == 200
        await db.execute("DELETE FROM geo.schema_migrations")
        r = await client.get("/readyz")
        assert r.status_code == 503 and r.json()["pending_migrations"]
        assert (await client.get("/healthz")).status_code == 200  # liveness never asks the database
