"""notify's data-moving migrations on a database that already holds data: the stock replica seeded
from what inventory published before it existed, both kinds of push subscriptions in one table, and
secrets kept in clear sealed by notify's first start after the migration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import pytest

from services.notify.app import SPEC
from services.notify.push import vapid
from services.notify.push.push_urls import b64url_encode
from services.notify.settings import NotifySettings
from services.notify.webhooks import jobs as webhook_jobs
from services.notify.webhooks.secrets import new_secret, secret_of
from shared import bus, migrations
from shared.db import Database, connect, create_pool
from shared.events import StockChanged, StockData
from shared.sealed import Sealer
from tests.conftest import TOKEN_KEY, with_database

SEALER = Sealer(TOKEN_KEY, 1)

BEFORE_REPLICA = 4


@asynccontextmanager
async def notify_up_to(server_dsn: str, last: int) -> AsyncIterator[asyncpg.Connection]:
    """A database with the bus and notify's migrations up to `last` only."""
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
            if migration.version <= last:
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


@pytest.fixture
async def old_notify(server_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    async with notify_up_to(server_dsn, BEFORE_REPLICA) as conn:
        yield conn


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


BEFORE_SEALING = 18


async def test_secrets_kept_in_clear_are_sealed_at_the_first_start_and_the_clear_text_goes(server_dsn: str) -> None:
    private, public = vapid.generate()
    secrets = {"crm": new_secret(), "erp": new_secret()}
    async with notify_up_to(server_dsn, BEFORE_SEALING) as db:
        await db.execute("INSERT INTO notify.vapid_keys (private_key, public_key) VALUES ($1, $2)", private, public)
        for webhook_id, secret in secrets.items():
            await db.execute(
                "INSERT INTO notify.webhooks (webhook_id, url, events, secret) VALUES ($1, $2, '{}', $3)",
                webhook_id,
                "https://crm.example/hook",
                secret,
            )
        await migrations.apply(db, SPEC.migration_sets)  # what the migrations Job does: it holds no key
        url = with_database(server_dsn, "accueil_notify_upgrade")
        pool = Database(await create_pool(url, min_size=1, max_size=2, timeout_s=5), url)
        try:
            keys = await vapid.load(pool, NotifySettings(), SEALER)  # notify's start
            assert await webhook_jobs.seal_secrets(pool, SEALER) == 2
            assert await webhook_jobs.seal_secrets(pool, SEALER) == 0
        finally:
            await pool.close()

        assert keys.public_key == public
        assert b64url_encode(keys.signer.private_key.private_numbers().private_value.to_bytes(32, "big")) == private
        stored = [tuple(r) for r in await db.fetch("SELECT v::text, v.sealed_private_key FROM notify.vapid_keys v")]
        stored += [tuple(r) for r in await db.fetch("SELECT w::text, w.sealed_secret FROM notify.webhooks w")]
        assert len(stored) == 3 and all(sealed is not None for _, sealed in stored)
        for clear in [private, *secrets.values()]:
            assert not any(clear in text or clear.encode() in sealed for text, sealed in stored)
        rows = await db.fetch("SELECT webhook_id, sealed_secret, secret FROM notify.webhooks")
        assert {r["webhook_id"]: secret_of(SEALER, r) for r in rows} == secrets
