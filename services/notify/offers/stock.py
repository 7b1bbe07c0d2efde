"""notify's own replica of what it needs from inventory to decide an offer: the available stock per
store and SKU, and the products (name, category, names by language) to rank alternatives among.

Offers are decided from it with no call to inventory, so no decision waits on another service inside
its transaction, and offers keep being decided while inventory is down.

It is fed by inventory's events, applied by the bus consumer below in the transaction that claims
them: `stock.changed` (the units available after the change, on the envelope's store) and
`product.changed`. Each row keeps the id of the event it is as of, and an older event never overwrites
a newer one, so a redelivery out of order does not go back in time.

How stale it can be: an event is applied milliseconds after inventory's transaction commits (the bus
wakes notify's consumers by NOTIFY), at worst one bus poll interval later (ACCUEIL_BUS_POLL_S) if a
wake-up is missed. While notify is down, inventory's events wait on the bus for it; when it is back
they are applied batch by batch, the replica's batch first in each round of the bus worker, so an
offer decided during that catch-up may see stock a few changes old.

Bootstrapping: a fresh install starts with both sides empty, and inventory's events fill the replica.
Stock that existed before the replica did was seeded by its migration from the latest `stock.changed`
per store and SKU still on the bus (and the latest `product.changed` per SKU). A product that has not
changed since needs one `PUT /v1/products/{sku}` for notify to know it (until then it makes no offer,
as an unknown product always did); stock whose last change is older than the bus's retention needs
one stock change or import.
"""

from __future__ import annotations

import asyncpg

from services.notify.context import NotifyContext
from services.notify.offers import repository as repo
from services.notify.offers.decide import ProductInfo
from shared.alternatives import Candidate, rank
from shared.bus import Consumer
from shared.events import ProductChanged, StockChanged


async def apply(conn: asyncpg.Connection, event: StockChanged | ProductChanged, _ctx: NotifyContext) -> None:
    if isinstance(event, StockChanged):
        if event.store_id is not None:
            data = event.data
            await repo.apply_stock(conn, event.store_id, data.sku, data.after, data.on_hand, event.id)
    else:
        data = event.data
        await repo.apply_product(conn, data.sku, data.name, data.category, data.names, event.id)


REPLICA = Consumer(name="notify.stock_replica", types=(StockChanged, ProductChanged), handle=apply)
"""Its name and types are also in migration 0005, which subscribed it while seeding the replica."""


async def product_at(conn: asyncpg.Connection, store_id: str, sku: str) -> ProductInfo | None:
    """The product with its availability at the store, or None if the replica does not know it."""
    row = await repo.product_at(conn, store_id, sku)
    if row is None:
        return None
    return ProductInfo(sku=row["sku"], name=row["name"], available=row["available"], names=row["names"])


async def best_alternative(conn: asyncpg.Connection, store_id: str, sku: str) -> ProductInfo | None:
    """The in-stock product of the same category closest to this one: what inventory's
    GET /v1/stores/{store_id}/alternatives/{sku} puts first (the same ranking, shared.alternatives)."""
    wanted = await repo.product_at(conn, store_id, sku)
    if wanted is None:
        return None
    rows = {r["sku"]: r for r in await repo.available_products(conn, store_id, sku)}
    candidates = [Candidate(r["sku"], r["name"], r["category"], r["available"]) for r in rows.values()]
    ranked = rank(wanted["name"], wanted["category"], candidates, limit=1)
    if not ranked:
        return None
    best = ranked[0]
    return ProductInfo(sku=best.sku, name=best.name, available=best.available, names=rows[best.sku]["names"])
