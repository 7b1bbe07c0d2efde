"""The back-in-stock feature's scheduled work (once per tick across replicas, see shared/jobs.py)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.notify.back_in_stock import repository as repo
from services.notify.back_in_stock.consumers import BACK_IN_STOCK_DELIVERY
from services.notify.consent import repository as consent_repo
from services.notify.context import NotifyContext
from services.notify.outbox import repository as outbox_repo
from services.notify.outbox import service as outbox
from services.notify.policy.purposes import BACK_IN_STOCK
from services.notify.replicas import service as replicas
from shared.jobs import Job

BATCH = 200
OUT_OF_STOCK = "out_of_stock"


async def release_held(ctx: NotifyContext, now: datetime) -> int:
    """Quiet hours are over for these held answers: each is sent if the store still has the product (on
    notify's stock replica, now), else dropped as `out_of_stock` and its request waits again for the
    next return (or lapses, if its time is up). Returns how many were released or dropped."""
    async with ctx.db.transaction(readonly=True) as conn:
        due = await outbox_repo.held_due(conn, BACK_IN_STOCK, now, BATCH)
    if not due:
        return 0
    async with ctx.db.transaction() as conn:
        for device_id in sorted({h["device_id"] for h in due}):  # the lock order of repository.py
            await consent_repo.lock_device(conn, device_id)
        held = await outbox_repo.lock_held(conn, [h["id"] for h in due])  # erased or withdrawn meanwhile: gone
        stock = await replicas.availability(conn, [h["store_id"] for h in held], [h["sku"] for h in held])
        release: list[asyncpg.Record] = []
        gone: list[asyncpg.Record] = []
        for h in held:
            (release if stock.get((h["store_id"], h["sku"]), 0) > 0 else gone).append(h)
        await outbox.release(conn, [h["id"] for h in release], BACK_IN_STOCK_DELIVERY)
        await outbox_repo.suppress_messages(conn, [h["id"] for h in gone], [OUT_OF_STOCK] * len(gone))
        await repo.reopen(conn, [h["request_id"] for h in gone], now)
    return len(held)


async def lapse_requests(ctx: NotifyContext, now: datetime) -> int:
    """Requests still open past their time end unanswered (ACCUEIL_BACK_IN_STOCK_DAYS)."""
    async with ctx.db.transaction() as conn:
        return await repo.lapse(conn, now)


JOBS = [
    Job("notify.back_in_stock_release", 30, release_held),
    Job("notify.back_in_stock_lapse", 600, lapse_requests),
]
