"""notify's scheduled work (once per tick across replicas, see shared/jobs.py)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from services.notify import repository as repo
from services.notify.context import NotifyContext
from services.notify.delivery import TTL_S
from services.notify.inventory_client import InventoryClient
from shared import peers
from shared.jobs import Job

log = logging.getLogger("accueil.notify.jobs")

BATCH = 200
MISSED = timedelta(hours=1)
"""A held offer not released within this long after quiet hours ended (geo unreachable all along)
is dropped: by then the visit it was about is over."""


async def stores_where(ctx: NotifyContext, device_id: str) -> set[str]:
    """The stores geo sees the device in right now; none if geo does not know the device."""
    status, context = await peers.get_json(ctx, "geo", f"/v1/devices/{device_id}/context")
    return set() if status == 404 else set(context.get("stores", []))


async def release_held(ctx: NotifyContext, now: datetime) -> int:
    """Quiet hours are over for these held offers: send each whose shopper is still in that store and
    whose product is still in stock there; drop the others, with the reason (`quiet_hours`: an offer
    about a store the shopper has left is worthless; `out_of_stock`: never a promotion for what is not
    on the shelf). Consent is checked again by the sender, as for every message."""
    inventory = InventoryClient(ctx)
    async with ctx.db.transaction() as conn:
        held = await repo.held_due(conn, now, BATCH)
        whereabouts: dict[str, set[str] | None] = {}
        for device_id in sorted({h["device_id"] for h in held}):
            try:
                whereabouts[device_id] = await stores_where(ctx, device_id)
            except peers.PeerError as exc:
                log.warning("cannot tell where device is, held offers wait (%s)", exc)
                whereabouts[device_id] = None
        release, drop = [], []
        for h in held:
            stores = whereabouts[h["device_id"]]
            if stores is None:
                if now - h["send_after"] > MISSED:
                    drop.append((h, "quiet_hours"))
            elif h["store_id"] not in stores:
                drop.append((h, "quiet_hours"))
            elif h["sku"] is None:
                release.append(h)
            else:
                try:
                    product = await inventory.product_at(h["store_id"], h["sku"])
                except peers.PeerError as exc:
                    log.warning("cannot tell the stock, held offers wait (%s)", exc)
                    continue
                if product is None or product.available < 1:
                    drop.append((h, "out_of_stock"))
                else:
                    release.append(h)
        await repo.release_held(conn, [h["id"] for h in release], [TTL_S[h["purpose"]] for h in release])
        await repo.suppress_messages(conn, [h["id"] for h, _ in drop], [reason for _, reason in drop])
    return len(release) + len(drop)


JOBS = [Job("notify.release_held", 30, release_held)]
