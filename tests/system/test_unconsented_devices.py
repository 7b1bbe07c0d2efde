"""A device that never recorded a consent does not stay: ACCUEIL_UNCONSENTED_DEVICE_HOURS after it
registered it is erased, with what notify holds of it and its token; an answer (even no to everything)
or a back-in-stock request keeps it, and so does being young."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from services.notify.privacy.jobs import erase_unconsented
from tests.conftest import System, eventually
from tests.support.builders import Shopper, shopper
from tests.support.push_service import LocalPushService


async def registered_hours_ago(db: asyncpg.Connection, who: Shopper, hours: int) -> None:
    await db.execute(
        "UPDATE notify.devices SET created_at = now() - make_interval(hours => $2) WHERE device_id = $1",
        who.device_id,
        hours,
    )


async def known(db: asyncpg.Connection, who: Shopper) -> bool:
    return bool(await db.fetchval("SELECT EXISTS (SELECT 1 FROM notify.devices WHERE device_id = $1)", who.device_id))


async def push_targets(db: asyncpg.Connection, who: Shopper) -> int:
    return int(await db.fetchval("SELECT count(*) FROM notify.push_targets WHERE device_id = $1", who.device_id))


async def test_a_device_that_never_answered_is_erased_a_day_after_registering(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    silent = await shopper(system, push)  # subscribed to push, never answered
    said_no = await shopper(system, location=False, offers=False, pickup_updates=False, product_tips=False)
    young = await shopper(system)
    asked_back_in_stock = await shopper(system)
    for who in (silent, said_no, asked_back_in_stock):
        await registered_hours_ago(db, who, 25)
    await registered_hours_ago(db, young, 1)
    # A back-in-stock request is kept with its proof, as a consent is (the shop's answer, without a sold-out shelf).
    await db.execute(
        """
        INSERT INTO notify.back_in_stock_requests (device_id, store_id, sku, lapses_at, shown)
        VALUES ($1, 'rivoli', 'YOG-1', now() + interval '30 days', 'Tell me when it is back.')
        """,
        asked_back_in_stock.device_id,
    )

    assert await push_targets(db, silent) == 1
    assert await erase_unconsented(system.running.state("notify"), datetime.now(UTC)) == 1

    assert not await known(db, silent)
    assert await push_targets(db, silent) == 0
    r = await system.notify.get(f"/v1/devices/{silent.device_id}/consents", headers=silent.auth)
    assert r.status_code in (401, 403, 404)  # its token is refused, or finds nothing
    for kept in (said_no, young, asked_back_in_stock):
        assert await known(db, kept), kept
        r = await system.notify.get(f"/v1/devices/{kept.device_id}/consents", headers=kept.auth)
        assert r.status_code == 200, r.text
    # Erased as the shopper could have asked: geo and inventory confirm it too.

    async def confirmed() -> bool:
        [done] = await db.fetch("SELECT completed_at IS NOT NULL AS done FROM notify.erasures")
        return bool(done["done"])

    await eventually(confirmed)
    assert await erase_unconsented(system.running.state("notify"), datetime.now(UTC)) == 0  # once is enough
