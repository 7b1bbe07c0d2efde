"""What notify's service tests share: the database as notify's own code reaches it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.db import Database, create_pool


@pytest.fixture
async def notify_db(db_url: str) -> AsyncIterator[Database]:
    """A pool on the test's database, as a service's context holds it (a few connections: a job may
    hold one while its test's own connection writes)."""
    database = Database(await create_pool(db_url, min_size=1, max_size=4, timeout_s=10), db_url)
    try:
        yield database
    finally:
        await database.close()
