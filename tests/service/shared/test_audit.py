"""An audit entry lives and dies with the change it records: it is published in the change's own
transaction, and only for the admin token or an operator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from shared import audit
from shared.auth import CALL, CALLER, Principal

ADMIN = Principal(role="admin", subject="admin")
MIA = Principal(role="marketer", subject="mia@example.com")
STAFF = Principal(role="staff", subject="stf_1", store_id="rivoli")


@contextmanager
def serving(principal: Principal, call: str) -> Iterator[None]:
    """As BearerAuth sets them for a request."""
    caller, line = CALLER.set(principal), CALL.set(call)
    try:
        yield
    finally:
        CALL.reset(line)
        CALLER.reset(caller)


async def recorded(db: asyncpg.Connection) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT source, data FROM bus.events WHERE type = 'audit.recorded' ORDER BY id",
    )


async def test_an_entry_is_published_with_the_change_and_never_without_it(db: asyncpg.Connection) -> None:
    with serving(MIA, "PUT /v1/campaigns/welcome"):
        tx = db.transaction()
        await tx.start()
        await audit.record(db, "notify", {"active": True}, {"active": False})
        await tx.rollback()  # the change failed after its entry was made
        assert await recorded(db) == []

        async with db.transaction():
            await audit.record(db, "notify", {"active": True}, {"active": False})
    [entry] = await recorded(db)
    assert entry["source"] == "notify.audit"  # not in notify's event feed
    assert entry["data"] == {
        "actor": "mia@example.com",
        "action": "PUT /v1/campaigns/welcome",
        "before": {"active": True},
        "after": {"active": False},
    }


async def test_staff_writes_and_writes_that_change_nothing_make_no_entry(db: asyncpg.Connection) -> None:
    with serving(STAFF, "PUT /v1/stores/rivoli/stock/YOG-1"):
        assert not audit.audited()
        await audit.record(db, "inventory", {"on_hand": 1}, {"on_hand": 2})
    with serving(ADMIN, "PUT /v1/stores/rivoli/stock/YOG-1"):
        assert audit.audited()
        await audit.record(db, "inventory", {"on_hand": 2}, {"on_hand": 2})
        await audit.record(db, "inventory", {"on_hand": 2}, {"on_hand": 3})  # seen: the one that changed
    assert [(r["data"]["actor"], r["data"]["after"]) for r in await recorded(db)] == [("admin", {"on_hand": 3})]
