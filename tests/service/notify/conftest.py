"""What notify's service tests share: the database as notify's own code reaches it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from shared.app import signer_of
from shared.auth import ServiceTokens
from shared.context import Context
from shared.db import Database, create_pool
from shared.revocation import RevocationWatcher
from shared.settings import Settings


@pytest.fixture
async def notify_db(db_url: str) -> AsyncIterator[Database]:
    """A pool on the test's database, as a service's context holds it (a few connections: a job may
    hold one while its test's own connection writes)."""
    database = Database(await create_pool(db_url, min_size=1, max_size=4, timeout_s=10), db_url)
    try:
        yield database
    finally:
        await database.close()


def notify_context(settings: Settings, db: Database, http: httpx.AsyncClient) -> Context:
    """The parts of notify's context every service has, as the app makes them, on the test's settings."""
    signer = signer_of(settings, "notify")
    return Context(
        service="notify",
        settings=settings,
        db=db,
        http=http,
        signer=signer,
        revocations=RevocationWatcher(),
        service_tokens=ServiceTokens(signer, "notify", settings.service_token_ttl_s),
    )
