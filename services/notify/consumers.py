"""What notify does with other services' events."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.notify import repository as repo
from services.notify.decide import OfferContext, decide_offer
from services.notify.inventory_client import InventoryClient
from shared.bus import Consumer
from shared.events import Event


async def _consents(conn: asyncpg.Connection, device_id: str) -> dict[str, bool]:
    row = await repo.get_consents(conn, device_id)
    if row is None:
        return {}
    return {"location": row["location"], "pickup_updates": row["pickup_updates"], "offers": row["offers"]}


async def decide_offers(conn: asyncpg.Connection, event: Event, state: Any) -> None:
    """A shopper entered or dwelled in a zone: decide, once, each matching campaign's offer."""
    if event.device_id is None:
        return
    device = await repo.get_device(conn, event.device_id)
    if device is None:
        return  # erased, or never registered with notify: nothing to say to it
    campaigns = await repo.campaigns_for(conn, event.type, event.store_id, event.zone_id, event.data.get("kind"))
    if not campaigns:
        return
    consents = await _consents(conn, event.device_id)
    inventory = InventoryClient(state.http, state.settings.inventory_url, state.service_token)
    for campaign in campaigns:
        product = alternative = None
        if consents.get("offers") and event.store_id is not None:
            product = await inventory.product_at(event.store_id, campaign["sku"])
            if product is None or product.available <= 0:
                alternative = await inventory.best_alternative(event.store_id, campaign["sku"])
        messages = {loc: (m["title"], m["body"]) for loc, m in campaign["message"].items()}
        decision = decide_offer(
            messages,
            campaign["sku"],
            OfferContext(consents=consents, locale=device["locale"], product=product, alternative=alternative),
        )
        await repo.record_message(
            conn,
            device_id=event.device_id,
            event_id=event.id,
            campaign_id=campaign["campaign_id"],
            purpose="offers",
            status=decision.status,
            reason=decision.reason,
            store_id=event.store_id,
            sku=decision.sku,
            locale=decision.locale,
            title=decision.title,
            body=decision.body,
        )


OFFERS = Consumer(name="notify.offers", types=("zone.entered", "zone.dwelled"), handle=decide_offers)

CONSUMERS = [OFFERS]
