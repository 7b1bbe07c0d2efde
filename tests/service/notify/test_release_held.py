"""Releasing offers held through quiet hours: geo is asked with no transaction open, and only what
is still held when the decision is written is released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import asyncpg
import pytest

from services.notify.offers import jobs
from shared.db import Database

NOW = datetime.now(UTC)


async def held(db: asyncpg.Connection, event_id: int, sku: str) -> int:
    return await db.fetchval(
        """
        INSERT INTO notify.messages (device_id, event_id, campaign_id, purpose, status, reason, store_id, sku,
                                     locale, title, body, topic, send_after)
        VALUES ('d1', $1, 'welcome', 'offers', 'held', 'quiet_hours', 'rivoli', $2, 'en', 'Welcome', 'Hi', 't', $3)
        RETURNING id
        """,
        event_id,
        sku,
        NOW - timedelta(minutes=1),
    )


async def test_geo_is_asked_outside_any_transaction_and_a_message_no_longer_held_stays_as_it_is(
    db: asyncpg.Connection, notify_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await db.execute(
        "INSERT INTO notify.devices (device_id, platform, locale, timezone) VALUES ('d1', 'web', 'en', 'UTC')"
    )
    for i, sku in enumerate(("YOG-1", "YOG-2", "YOG-3")):
        await db.execute(
            "INSERT INTO notify.products (sku, name, category, event_id) VALUES ($1, $1, 'dairy', $2)", sku, i + 1
        )
    await db.execute(
        "INSERT INTO notify.stock (store_id, sku, available, on_hand, event_id)"
        " VALUES ('rivoli', 'YOG-1', 3, 3, 10), ('rivoli', 'YOG-2', 3, 3, 11), ('rivoli', 'YOG-3', 0, 0, 12)"
    )
    kept, meanwhile, gone = await held(db, 1, "YOG-1"), await held(db, 2, "YOG-2"), await held(db, 3, "YOG-3")

    async def stores_where(ctx: object, device_id: str) -> set[str]:
        pool = notify_db.pool
        assert pool.get_idle_size() == pool.get_size(), "a transaction is open while geo is asked"
        # Meanwhile another decision settles one of them (an erasure would delete it).
        await db.execute(
            "UPDATE notify.messages SET status = 'suppressed', reason = 'no_consent' WHERE id = $1", meanwhile
        )
        return {"rivoli"}

    monkeypatch.setattr(jobs, "stores_where", stores_where)
    assert await jobs.release_held(SimpleNamespace(db=notify_db), NOW) == 2

    rows = await db.fetch("SELECT id, status, reason FROM notify.messages ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (kept, "pending", None),
        (meanwhile, "suppressed", "no_consent"),
        (gone, "suppressed", "out_of_stock"),
    ]
