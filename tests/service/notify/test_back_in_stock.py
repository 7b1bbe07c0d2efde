"""The message log's guarantee behind "answered exactly once": one request has at most one message that
is or may be said, whatever the code around it does; a dropped one leaves room for the next."""

from __future__ import annotations

import asyncpg

from services.notify.back_in_stock.consumers import BACK_IN_STOCK_DELIVERY
from services.notify.outbox import service as outbox
from services.notify.outbox.messages import Addressee, Outgoing


def answer_to(request_id: int, event_id: int) -> Outgoing:
    return Outgoing(
        to=Addressee("device", "d1"),
        event_id=event_id,
        kind=BACK_IN_STOCK_DELIVERY,
        status="pending",
        store_id="rivoli",
        sku="YOG-1",
        locale="en",
        title="Back in stock",
        body="Plain yoghurt is back in stock at your store.",
        topic="t",
        request_id=request_id,
    )


async def test_a_second_live_answer_to_one_request_is_refused_by_the_log(db: asyncpg.Connection) -> None:
    await db.execute(
        "INSERT INTO notify.devices (device_id, platform, locale, timezone) VALUES ('d1', 'web', 'en', 'UTC')"
    )
    request_id = await db.fetchval(
        """
        INSERT INTO notify.back_in_stock_requests (device_id, store_id, sku, lapses_at)
        VALUES ('d1', 'rivoli', 'YOG-1', now() + interval '30 days') RETURNING request_id
        """
    )
    async with db.transaction():
        assert await outbox.queue(db, [answer_to(request_id, 1)]) == 1
    async with db.transaction():  # another return of the stock, answered as if the request were still open
        assert await outbox.queue(db, [answer_to(request_id, 2)]) == 0
    assert await db.fetchval("SELECT count(*) FROM notify.messages WHERE request_id = $1", request_id) == 1

    await db.execute("UPDATE notify.messages SET status = 'suppressed', reason = 'out_of_stock'")
    async with db.transaction():  # the first was dropped (stock gone when due): the next return may answer
        assert await outbox.queue(db, [answer_to(request_id, 3)]) == 1
    rows = await db.fetch("SELECT event_id, status FROM notify.messages WHERE request_id = $1 ORDER BY id", request_id)
    assert [tuple(r) for r in rows] == [(1, "suppressed"), (3, "pending")]
