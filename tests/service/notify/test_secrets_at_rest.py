"""notify's stored secrets when the token key version is raised: sealed again under the new version,
once, by whichever replica gets there first, and the same secrets as before; a stored secret altered,
moved or sealed under another token key is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.notify.push import vapid
from services.notify.settings import NotifySettings
from services.notify.webhooks import jobs as webhook_jobs
from services.notify.webhooks import repository as repo
from services.notify.webhooks.secrets import new_secret, sealed_for, secret_of
from shared.db import Database, create_pool
from shared.errors import ConfigError
from shared.sealed import Sealer, Unsealable, version_of
from tests.conftest import TOKEN_KEY

V1, V2 = Sealer(TOKEN_KEY, 1), Sealer(TOKEN_KEY, 2)


@pytest.fixture
async def pools(db_url: str) -> AsyncIterator[list[Database]]:
    """Three replicas' pools."""
    made = [Database(await create_pool(db_url, min_size=1, max_size=2, timeout_s=5), db_url) for _ in range(3)]
    try:
        yield made
    finally:
        for p in made:
            await p.close()


async def add_webhook(db: asyncpg.Connection, webhook_id: str, sealer: Sealer) -> str:
    secret = new_secret()
    sealed = sealer.seal(secret.encode(), sealed_for(webhook_id))
    await repo.save_webhook(db, webhook_id, f"https://{webhook_id}.example/hook", ["consent.changed"], sealed)
    return secret


async def start(db: Database, sealer: Sealer) -> tuple[vapid.VapidKeys, int]:
    """What notify's start does with its stored secrets."""
    return await vapid.load(db, NotifySettings(), sealer), await webhook_jobs.seal_secrets(db, sealer)


async def stored_versions(db: asyncpg.Connection) -> list[int]:
    rows = await db.fetch(
        "SELECT sealed_private_key AS sealed FROM notify.vapid_keys UNION ALL SELECT sealed_secret FROM notify.webhooks"
    )
    return [version_of(r["sealed"]) for r in rows]


async def test_replicas_started_on_a_raised_version_seal_everything_again_once_with_the_same_secrets(
    pools: list[Database], db: asyncpg.Connection
) -> None:
    before, _ = await start(pools[0], V1)
    secrets = {w: await add_webhook(db, w, V1) for w in ("crm", "erp")}
    assert await stored_versions(db) == [1, 1, 1]

    started = await asyncio.gather(*(start(p, V2) for p in pools))

    assert sum(sealed for _, sealed in started) == 2  # each webhook sealed again by one replica only
    assert await stored_versions(db) == [2, 2, 2]
    for keys, _ in started:
        assert keys.public_key == before.public_key
        assert keys.signer.private_key.private_numbers() == before.signer.private_key.private_numbers()
    rows = await db.fetch("SELECT webhook_id, sealed_secret, secret FROM notify.webhooks")
    assert {r["webhook_id"]: secret_of(V2, r) for r in rows} == secrets

    # A replica still on version 1 during the rollout reads them, and does not seal them back.
    keys, sealed = await start(pools[0], V1)
    assert (keys.public_key, sealed) == (before.public_key, 0)
    assert await stored_versions(db) == [2, 2, 2]
    assert {r["webhook_id"]: secret_of(V1, r) for r in rows} == secrets


async def test_a_webhooks_secret_moved_to_another_row_is_refused_and_left_as_it_is(
    pools: list[Database], db: asyncpg.Connection, caplog: pytest.LogCaptureFixture
) -> None:
    await add_webhook(db, "crm", V1)
    await add_webhook(db, "erp", V1)
    await db.execute(
        """
        UPDATE notify.webhooks SET sealed_secret = (SELECT sealed_secret FROM notify.webhooks WHERE webhook_id = 'crm')
        WHERE webhook_id = 'erp'
        """
    )
    moved = await db.fetchrow("SELECT webhook_id, sealed_secret, secret FROM notify.webhooks WHERE webhook_id = 'erp'")
    with pytest.raises(Unsealable):
        secret_of(V1, moved)

    assert await webhook_jobs.seal_secrets(pools[0], V2) == 1  # crm's; erp's cannot be opened
    assert "webhook erp: its stored secret cannot be opened" in caplog.text
    after = await db.fetchval("SELECT sealed_secret FROM notify.webhooks WHERE webhook_id = 'erp'")
    assert after == moved["sealed_secret"]


@pytest.mark.parametrize("spoil", ["one byte altered", "another token key"])
async def test_a_stored_vapid_key_that_cannot_be_opened_stops_a_start_that_would_use_it(
    pools: list[Database], db: asyncpg.Connection, spoil: str
) -> None:
    await start(pools[0], V1)
    if spoil == "one byte altered":
        await db.execute(
            "UPDATE notify.vapid_keys"
            " SET sealed_private_key = set_byte(sealed_private_key, 30, get_byte(sealed_private_key, 30) # 1)"
        )
        sealer = V1
    else:
        sealer = Sealer(TOKEN_KEY + "-new", 1)
    with pytest.raises(ConfigError, match="stored VAPID private key cannot be opened"):
        await vapid.load(pools[0], NotifySettings(), sealer)

    # With the operator's own pair the stored one is not used: no reason to stop.
    private, public = vapid.generate()
    operators = NotifySettings(vapid_private_key=private, vapid_public_key=public)
    assert (await vapid.load(pools[0], operators, sealer)).public_key == public
