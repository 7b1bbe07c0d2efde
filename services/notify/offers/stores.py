"""notify's replica of each store's time zone, so a campaign's hours are read in the store's local time
without calling geo while an offer is decided.

Fed by geo's `store.changed` (published in the transaction that creates or changes the store); the
newest event wins, as in the stock replica. A store notify has not heard of yet counts as UTC: a
store created before notify had this replica needs one `PUT /v1/stores/{store_id}` for its hours to
be read in its own time zone.
"""

from __future__ import annotations

import asyncpg

from services.notify.context import NotifyContext
from services.notify.offers import repository as repo
from shared.bus import Consumer
from shared.events import StoreChanged

UNKNOWN_STORE_TIMEZONE = "UTC"


async def apply(conn: asyncpg.Connection, event: StoreChanged, _ctx: NotifyContext) -> None:
    if event.store_id is not None:
        await repo.apply_store(conn, event.store_id, event.data.timezone, event.id)


STORES = Consumer(name="notify.store_replica", types=(StoreChanged,), handle=apply)


async def timezone_of(conn: asyncpg.Connection, store_id: str | None) -> str:
    found = None if store_id is None else await repo.store_timezone(conn, store_id)
    return found or UNKNOWN_STORE_TIMEZONE
