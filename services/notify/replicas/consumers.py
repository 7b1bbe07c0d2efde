"""The bus consumers that keep notify's replicas, and their only writers: inventory's available stock
per store and SKU and its products (name, category, names by language: what alternatives are ranked
among), and each store's name and time zone from geo.

Offers and back-in-stock answers are decided from them with no call to another service, so no decision
waits on one inside its transaction, and decisions go on while inventory or geo is down.

Each is applied in the transaction that claims its event: `stock.changed` (the units available after
the change, on the envelope's store), `product.changed`, and geo's `store.changed` (published in the
transaction that creates or changes the store). Each row keeps the id of the event it is as of, and an
older event never overwrites a newer one, so a redelivery out of order does not go back in time.

How stale it can be: an event is applied milliseconds after its producer's transaction commits (the
bus wakes notify's consumers by NOTIFY), at worst one bus poll interval later (ACCUEIL_BUS_POLL_S) if a
wake-up is missed. While notify is down, the events wait on the bus for it; when it is back they are
applied batch by batch, the replicas' batches first in each round of the bus worker, so an offer
decided during that catch-up may see stock a few changes old.

Bootstrapping: a fresh install starts with both sides empty, and the events fill the replicas. Stock
that existed before the replica did was seeded by its migration from the latest `stock.changed` per
store and SKU still on the bus (and the latest `product.changed` per SKU). A product that has not
changed since needs one `PUT /v1/products/{sku}` for notify to know it (until then it makes no offer,
as an unknown product always did); stock whose last change is older than the bus's retention needs
one stock change or import. A store created before notify had the store replica needs one
`PUT /v1/stores/{store_id}` for its campaigns' hours to be read in its own time zone (until then: UTC).
"""

from __future__ import annotations

import asyncpg

from services.notify.context import NotifyContext
from services.notify.replicas import repository as repo
from shared.bus import Consumer
from shared.events import ProductChanged, StockChanged, StoreChanged


async def apply(conn: asyncpg.Connection, event: StockChanged | ProductChanged, _ctx: NotifyContext) -> None:
    if isinstance(event, StockChanged):
        if event.store_id is not None:
            stock = event.data
            await repo.apply_stock(conn, event.store_id, stock.sku, stock.after, stock.on_hand, event.id)
    else:
        product = event.data
        await repo.apply_product(conn, product.sku, product.name, product.category, product.names, event.id)


REPLICA = Consumer(name="notify.stock_replica", types=(StockChanged, ProductChanged), handle=apply)
"""Its name and types are also in migration 0005, which subscribed it while seeding the replica."""


async def apply_store(conn: asyncpg.Connection, event: StoreChanged, _ctx: NotifyContext) -> None:
    """Fed by geo's `store.changed` (published in the transaction that creates or changes the store); the
    newest event wins, as for the stock."""
    if event.store_id is not None:
        await repo.apply_store(conn, event.store_id, event.data.name, event.data.timezone, event.id)


STORES = Consumer(name="notify.store_replica", types=(StoreChanged,), handle=apply_store)
