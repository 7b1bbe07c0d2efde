"""As a message is claimed for sending, its kind says whether it may still be said: an offer or a
pickup update while the device still consents to its purpose, a back-in-stock answer while its
request is still answered by it, a staff alert always; a purpose no feature registered, never."""

from __future__ import annotations

import asyncpg

from services.notify.app import DELIVERY_KINDS
from services.notify.outbox.kinds import DeliveryKinds, Due


async def device(db: asyncpg.Connection, device_id: str, *, offers: bool, pickup_updates: bool) -> None:
    await db.execute(
        "INSERT INTO notify.devices (device_id, platform, locale, timezone) VALUES ($1, 'web', 'en', 'UTC')", device_id
    )
    await db.execute(
        "INSERT INTO notify.consents (device_id, offers, pickup_updates, policy_version) VALUES ($1, $2, $3, 'v1')",
        device_id,
        offers,
        pickup_updates,
    )


async def request(db: asyncpg.Connection, device_id: str, status: str) -> int:
    return await db.fetchval(
        """
        INSERT INTO notify.back_in_stock_requests (device_id, store_id, sku, lapses_at, status, ended_at)
        VALUES ($1, 'rivoli', 'YOG-1', now() + interval '30 days', $2, CASE WHEN $2 <> 'open' THEN now() END)
        RETURNING request_id
        """,
        device_id,
        status,
    )


async def test_each_kind_keeps_only_what_may_still_be_said(db: asyncpg.Connection) -> None:
    await device(db, "offers-only", offers=True, pickup_updates=False)
    await device(db, "pickup-only", offers=False, pickup_updates=True)
    await device(db, "no-consent-row", offers=False, pickup_updates=False)
    await db.execute("DELETE FROM notify.consents WHERE device_id = 'no-consent-row'")
    answered = await request(db, "offers-only", "answered")
    withdrawn = await request(db, "pickup-only", "withdrawn")
    due = [
        Due(1, "offers", "offers-only", None),
        Due(2, "offers", "pickup-only", None),
        Due(3, "offers", "no-consent-row", None),
        Due(4, "pickup_updates", "pickup-only", None),
        Due(5, "pickup_updates", "offers-only", None),
        Due(6, "back_in_stock", "offers-only", answered),
        Due(7, "back_in_stock", "pickup-only", withdrawn),
        Due(8, "staff_alerts", None, None),
        Due(9, "a_purpose_nobody_registered", "offers-only", None),
    ]
    assert await DeliveryKinds(DELIVERY_KINDS).withdrawn(db, due) == {2, 3, 5, 7, 9}


async def test_nothing_due_asks_nothing(db: asyncpg.Connection) -> None:
    assert await DeliveryKinds(DELIVERY_KINDS).withdrawn(db, []) == set()
