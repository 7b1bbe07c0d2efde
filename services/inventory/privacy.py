"""What inventory keeps about a shopper, for how long; its part of an erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from litestar import get

from services.inventory import orders, stock
from services.inventory import repository as repo
from services.inventory.context import InventoryContext
from shared import erasure
from shared.bus import Consumer
from shared.context import FromContext
from shared.events import ErasureRequested, OrderCanceled
from shared.jobs import Job


def collection(config: Any) -> list[dict[str, Any]]:
    """inventory's part of the privacy notice, from the running configuration."""
    return [
        {
            "data": "orders",
            "purpose": "pickup_order",
            "what": {
                "en": "your pickup orders: the store, the products and quantities, and when each was placed,"
                " made ready, collected or canceled (after an erasure, under a pseudonym only)",
                "fr": "vos commandes à retirer : le magasin, les produits et quantités, et quand chacune a été"
                " passée, préparée, retirée ou annulée (après un effacement, sous un pseudonyme seulement)",
            },
            "kept": {"unit": "as_required_by_law", "value": None},
        },
        {
            "data": "display_name",
            "purpose": "pickup_order",
            "what": {
                "en": "the name you chose for staff to call you by, kept after the order is collected or canceled",
                "fr": "le nom que vous avez choisi pour que l'équipe vous appelle, conservé après le retrait ou"
                " l'annulation de la commande",
            },
            "kept": {"unit": "days", "value": config.display_name_retention_days},
        },
    ]


@get("/v1/privacy", exclude_from_auth=True)
async def privacy(ctx: FromContext[InventoryContext]) -> dict[str, Any]:
    return {"service": "inventory", "collects": collection(ctx.config)}


async def erase(conn: asyncpg.Connection, event: ErasureRequested, ctx: InventoryContext) -> None:
    """notify asked for a device's erasure: its orders keep only a pseudonym and no name, those still
    waiting are canceled (their stock goes back on sale), then say so on the bus."""
    now = datetime.now(UTC)
    if event.device_id is not None:
        pseudonym = erasure.pseudonym(ctx.settings.token_key, event.device_id)
        await repo.pseudonymize_orders(conn, event.device_id, pseudonym)
        canceled = await repo.cancel_orders_of_device(conn, pseudonym, now)
        if canceled:
            released = [(o["store_id"], line.sku, line.qty) for o in canceled for line in orders.lines_in(o)]
            events = [orders.order_event(OrderCanceled, o, now) for o in canceled]
            await ctx.publish(conn, events + await stock.release(conn, released, now))
    await erasure.confirm(conn, ctx.service, event.data.erasure_id, now)


ERASURE = Consumer(name="inventory.erasure", types=(ErasureRequested,), handle=erase)


async def forget_display_names(ctx: InventoryContext, now: datetime) -> int:
    async with ctx.db.transaction() as conn:
        return await repo.forget_display_names(conn, now - timedelta(days=ctx.config.display_name_retention_days))


RETENTION = Job("inventory.display_name_retention", 3600, forget_display_names)

ROUTES = [privacy]
