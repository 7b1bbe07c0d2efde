"""The offers feature's scheduled work (once per tick across replicas, see shared/jobs.py)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from services.notify.context import NotifyContext
from services.notify.offers import repository as repo
from services.notify.offers.consumers import OFFER_DELIVERY
from services.notify.offers.held import RELEASE, fate
from services.notify.offers.schemas import DeviceWhereabouts
from services.notify.outbox import repository as outbox_repo
from services.notify.outbox import service as outbox
from services.notify.policy.purposes import OFFERS
from services.notify.replicas import service as replicas
from shared import peers
from shared.jobs import Job

log = logging.getLogger("accueil.notify.jobs")

BATCH = 200


async def stores_where(ctx: NotifyContext, device_id: str) -> set[str] | None:
    """The stores geo sees the device in right now (none if geo does not know the device), or None if
    geo cannot say."""
    try:
        whereabouts = await peers.get_answer(ctx, "geo", f"/v1/devices/{device_id}/context", DeviceWhereabouts)
    except peers.PeerError as exc:
        log.warning("cannot tell where device is, held offers wait (%s)", exc)
        return None
    return set() if whereabouts is None else set(whereabouts.stores)


async def release_held(ctx: NotifyContext, now: datetime) -> int:
    """Quiet hours are over for these held offers: each is sent or dropped (see held.py). What is due
    is read first, geo is asked where the shoppers are with no transaction open, then each offer still
    held is decided and written in a second transaction, on the stock as notify's replica has it.
    Returns how many were released or dropped."""
    async with ctx.db.transaction(readonly=True) as conn:
        due = await outbox_repo.held_due(conn, OFFERS, now, BATCH)
    if not due:
        return 0
    whereabouts = {device_id: await stores_where(ctx, device_id) for device_id in sorted({h["device_id"] for h in due})}
    async with ctx.db.transaction() as conn:
        held = await outbox_repo.lock_held(conn, [h["id"] for h in due])  # erased or decided meanwhile: gone
        with_sku = [h for h in held if h["sku"] is not None]
        stock = await replicas.availability(conn, [h["store_id"] for h in with_sku], [h["sku"] for h in with_sku])
        release, drop = [], []
        for h in held:
            outcome = fate(
                h["store_id"],
                h["sku"],
                h["send_after"],
                whereabouts[h["device_id"]],
                stock.get((h["store_id"], h["sku"])),
                now,
            )
            if outcome == RELEASE:
                release.append(h)
            elif outcome is not None:
                drop.append((h, outcome))
        await outbox.release(conn, [h["id"] for h in release], OFFER_DELIVERY)
        await outbox_repo.suppress_messages(conn, [h["id"] for h, _ in drop], [reason for _, reason in drop])
    return len(release) + len(drop)


async def forget_old_orders(ctx: NotifyContext, now: datetime) -> int:
    """The record of orders that results attribute follows the message log's retention: past it, no
    offer is left that an order could be attributed to."""
    async with ctx.db.transaction() as conn:
        return await repo.delete_old_orders(conn, now - timedelta(days=ctx.config.message_retention_days))


JOBS = [Job("notify.release_held", 30, release_held), Job("notify.order_record_retention", 3600, forget_old_orders)]
