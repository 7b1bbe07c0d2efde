"""notify's data-moving migrations on a database that already holds data: the stock replica seeded
from what inventory published before it existed, and both kinds of push subscriptions in one table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from services.notify.app import SPEC
from shared import bus, migrations
from shared.db import connect
from shared.events import StockChanged, StockData
from tests.conftest import with_database

BEFORE_REPLICA = 4


@pytest.fixture
async def old_notify(server_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A database with the bus and notify's migrations up to 0004 only."""
    admin = await asyncpg.connect(with_database(server_dsn, "postgres"))
    await admin.execute("DROP DATABASE IF EXISTS accueil_notify_upgrade WITH (FORCE)")
    await admin.execute("CREATE DATABASE accueil_notify_upgrade")
    conn = await connect(with_database(server_dsn, "accueil_notify_upgrade"))
    try:
        await migrations.apply(conn, [migrations.BUS])
        await conn.execute("CREATE SCHEMA notify")
        await conn.execute(
            "CREATE TABLE notify.schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in SPEC.migrations.load():
            if migration.version <= BEFORE_REPLICA:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO notify.schema_migrations (version, name) VALUES ($1, $2)",
                        migration.version,
                        migration.name,
                    )
        yield conn
    finally:
        await conn.close()
        await admin.execute("DROP DATABASE IF EXISTS accueil_notify_upgrade WITH (FORCE)")
        await admin.close()


async def publish(conn: asyncpg.Connection, source: str, type_: str, store_id: str | None, data: dict) -> int:
    return await conn.fetchval(
        "INSERT INTO bus.events (source, type, ts, store_id, data) VALUES ($1, $2, now(), $3, $4) RETURNING id",
        source,
        type_,
        store_id,
        data,
    )


async def test_the_replica_starts_from_the_latest_stock_and_product_events_on_the_bus(
    old_notify: asyncpg.Connection,
) -> None:
    db = old_notify
    stock = "stock.changed"
    await publish(db, "inventory", stock, "rivoli", {"sku": "YOG-1", "before": 0, "after": 5, "on_hand": 5})
    await publish(db, "inventory", stock, "opera", {"sku": "YOG-1", "before": 0, "after": 2, "on_hand": 3})
    latest = await publish(db, "inventory", stock, "rivoli", {"sku": "YOG-1", "before": 5, "after": 1, "on_hand": 4})
    await publish(
        db, "geo", stock, "rivoli", {"sku": "YOG-1", "before": 0, "after": 99, "on_hand": 99}
    )  # not inventory
    await publish(db, "inventory", "product.changed", None, {"sku": "YOG-1", "name": "Old", "category": "dairy"})
    named = await publish(
        db, "inventory", "product.changed", None, {"sku": "YOG-1", "name": "Yoghurt", "category": "dairy"}
    )

    assert await migrations.apply(db, SPEC.migration_sets)
    rows = await db.fetch("SELECT store_id, sku, available, on_hand, event_id FROM notify.stock ORDER BY store_id")
    assert [tuple(r) for r in rows] == [("opera", "YOG-1", 2, 3, latest - 1), ("rivoli", "YOG-1", 1, 4, latest)]
    product = await db.fetchrow("SELECT sku, name, category, names, event_id FROM notify.products")
    assert tuple(product) == ("YOG-1", "Yoghurt", "dairy", {}, named)
    types = await db.fetchval("SELECT types FROM bus.subscriptions WHERE consumer = 'notify.stock_replica'")
    assert sorted(types) == ["product.changed", "stock.changed"]
    # Subscribed with the seed: the next stock change is kept for the replica's consumer.
    change = StockChanged(
        ts=datetime.now(UTC), store_id="rivoli", data=StockData(sku="YOG-1", before=1, after=0, on_hand=3)
    )
    [published] = await bus.publish(db, "inventory", [change])
    delivery = await db.fetchval("SELECT event_id FROM bus.deliveries WHERE consumer = 'notify.stock_replica'")
    assert delivery == published.id


async def test_shoppers_and_staff_subscriptions_move_to_the_one_table_of_push_targets(
    old_notify: asyncpg.Connection,
) -> None:
    db = old_notify
    await db.execute(
        "INSERT INTO notify.devices (device_id, platform, locale, timezone) VALUES ('d1', 'web', 'fr', 'UTC')"
    )
    await db.execute(
        "INSERT INTO notify.staff (staff_id, store_id, name, locale) VALUES ('s1', 'rivoli', 'Alex', 'en')"
    )
    await db.execute(
        "INSERT INTO notify.push_subscriptions (device_id, endpoint, p256dh, auth, created_at)"
        " VALUES ('d1', 'https://push.example/d1', 'pd', 'ad', '2026-01-02T03:04:05Z')"
    )
    await db.execute(
        "INSERT INTO notify.staff_push_subscriptions (staff_id, endpoint, p256dh, auth)"
        " VALUES ('s1', 'https://push.example/s1', 'ps', 'as')"
    )

    await migrations.apply(db, SPEC.migration_sets)
    rows = await db.fetch(
        "SELECT recipient_kind, recipient_id, device_id, staff_id, provider, address, p256dh, auth"
        " FROM notify.push_targets ORDER BY recipient_kind"
    )
    assert [tuple(r) for r in rows] == [
        ("device", "d1", "d1", None, "webpush", "https://push.example/d1", "pd", "ad"),
        ("staff", "s1", None, "s1", "webpush", "https://push.example/s1", "ps", "as"),
    ]
    created = await db.fetchval("SELECT created_at FROM notify.push_targets WHERE recipient_id = 'd1'")
    assert created.isoformat() == "2026-01-02T03:04:05+00:00"
    assert await db.fetchval("SELECT to_regclass('notify.staff_push_subscriptions')") is None

    # Deleting the owner still takes the subscription with it, whichever kind it is.
    await db.execute("DELETE FROM notify.devices WHERE device_id = 'd1'")
    await db.execute("DELETE FROM notify.staff WHERE staff_id = 's1'")
    assert await db.fetchval("SELECT count(*) FROM notify.push_targets") == 0
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await db.execute(
            "INSERT INTO notify.push_targets (recipient_kind, recipient_id, provider, address, p256dh, auth)"
            " VALUES ('staff', 'nobody', 'webpush', 'https://push.example/x', 'p', 'a')"
        )
