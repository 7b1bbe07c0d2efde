"""One VAPID key pair for every replica: generated once and kept, or the operator's own."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from services.notify.push import vapid
from services.notify.settings import NotifySettings
from shared.db import Database, create_pool
from shared.errors import ConfigError
from shared.sealed import Sealer
from tests.conftest import TOKEN_KEY

SEALER = Sealer(TOKEN_KEY, 1)


async def test_replicas_starting_together_share_one_generated_pair(db_url: str, db: asyncpg.Connection) -> None:
    pools = [Database(await create_pool(db_url, min_size=1, max_size=2, timeout_s=5), db_url) for _ in range(3)]
    try:
        keys = await asyncio.gather(*(vapid.load(p, NotifySettings(), SEALER) for p in pools))
        assert len({k.public_key for k in keys}) == 1
        assert await db.fetchval("SELECT count(*) FROM notify.vapid_keys") == 1
        again = await vapid.load(pools[0], NotifySettings(), SEALER)
        assert again.public_key == keys[0].public_key  # a restart keeps the pair browsers subscribed with
        assert vapid.public_of(again.signer.private_key) == again.public_key
    finally:
        for p in pools:
            await p.close()


async def test_the_operators_key_is_used_and_nothing_is_stored(db_url: str, db: asyncpg.Connection) -> None:
    private, public = vapid.generate()
    pool = Database(await create_pool(db_url, min_size=1, max_size=2, timeout_s=5), db_url)
    try:
        keys = await vapid.load(pool, NotifySettings(vapid_private_key=private, vapid_public_key=public), SEALER)
        assert keys.public_key == public
        assert await db.fetchval("SELECT count(*) FROM notify.vapid_keys") == 0
    finally:
        await pool.close()


@pytest.mark.parametrize(
    "config",
    [
        NotifySettings(vapid_private_key=vapid.generate()[0], vapid_public_key=vapid.generate()[1]),
        NotifySettings(vapid_public_key=vapid.generate()[1]),
        NotifySettings(vapid_private_key="not-a-key"),
    ],
    ids=["mismatched pair", "public key alone", "not a key"],
)
async def test_a_bad_operator_key_stops_the_start(db_url: str, config: NotifySettings) -> None:
    pool = Database(await create_pool(db_url, min_size=1, max_size=2, timeout_s=5), db_url)
    try:
        with pytest.raises(ConfigError, match="ACCUEIL_VAPID"):
            await vapid.load(pool, config, SEALER)
    finally:
        await pool.close()
