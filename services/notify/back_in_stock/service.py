"""A shopper's back-in-stock requests: made (with their proof) and withdrawn, and whether one still
wants its answer said. What answers them is in consumers.py, what ends them unanswered in jobs.py."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from services.notify.back_in_stock import repository as repo
from services.notify.back_in_stock.schemas import BackInStockPut, BackInStockRequest
from services.notify.consent import repository as consent_repo
from services.notify.context import NotifyContext
from services.notify.outbox import repository as outbox_repo
from services.notify.outbox.kinds import Due
from services.notify.replicas import service as replicas
from shared import budgets
from shared.errors import Conflict, NotFound

WITHDRAWN = "withdrawn"


def request_of(row: asyncpg.Record) -> BackInStockRequest:
    return BackInStockRequest(**dict(row))


async def _lock_device(conn: asyncpg.Connection, device_id: str) -> None:
    if await consent_repo.lock_device(conn, device_id) is None:
        raise NotFound(f"unknown device {device_id!r}", field="device_id")


async def _check_wanted(conn: asyncpg.Connection, store_id: str, sku: str) -> None:
    """The store and the product as notify's replicas know them (no call to another service): a request
    is accepted only for a product the store stocks and cannot hand over now. A product the store has
    never stocked could never be answered: inventory's first stocking of it is not a return."""
    if not await replicas.store_known(conn, store_id):
        raise NotFound(f"unknown store {store_id!r}", field="store_id")
    if not await replicas.product_known(conn, sku):
        raise NotFound(f"unknown product {sku!r}", field="sku")
    stock = await replicas.stock_level(conn, store_id, sku)
    if stock is None:
        raise NotFound(f"store {store_id!r} does not stock {sku!r}", field="sku")
    if stock.available > 0:
        raise Conflict(f"{sku} is in stock at {store_id} now ({stock.available} available)", field="sku")


async def _spend_request(ctx: NotifyContext, conn: asyncpg.Connection, device_id: str) -> None:
    """Each request is kept with its proof (a text of up to 5,000 characters): a device may make only so
    many an hour (ACCUEIL_BACK_IN_STOCK_REQUESTS_PER_HOUR), or a PUT/DELETE loop would grow the table
    without bound. Withdrawing is never refused: it adds no row, and a shopper's "stop" is always heard.
    Called with the device locked, so two requests racing cannot both take the last one."""
    now = datetime.now(UTC)
    recent = await repo.requested_since(conn, device_id, now - timedelta(hours=1))
    budgets.spend_hourly(recent, ctx.config.back_in_stock_requests_per_hour, now, "back-in-stock requests")


async def ask(
    ctx: NotifyContext,
    device_id: str,
    store_id: str,
    sku: str,
    data: BackInStockPut | None,
    user_agent: str | None,
) -> BackInStockRequest:
    """Record the request with its proof. Asking again while it is open answers the same request,
    unchanged (it does not wait longer)."""
    data = data or BackInStockPut()
    async with ctx.db.transaction() as conn:
        await _lock_device(conn, device_id)  # two PUTs racing: the second finds the first's request
        existing = await repo.open_request(conn, device_id, store_id, sku)
        if existing is not None:
            return request_of(existing)
        await _check_wanted(conn, store_id, sku)
        await _spend_request(ctx, conn, device_id)
        row = await repo.create_request(
            conn, device_id, store_id, sku, ctx.config.back_in_stock_days, data.shown, data.policy_version, user_agent
        )
    return request_of(row)


async def withdraw(ctx: NotifyContext, device_id: str, store_id: str, sku: str) -> None:
    """The shopper no longer wants to be told: the open request ends, and so does one whose message is
    still held through quiet hours or waiting to be sent (that message is dropped)."""
    async with ctx.db.transaction() as conn:
        await _lock_device(conn, device_id)
        ended = await repo.withdraw(conn, device_id, store_id, sku)
        if not ended:
            raise NotFound(f"no back-in-stock request waiting for {sku!r} at {store_id!r}", field="sku")
        dropped = [r["message_id"] for r in ended if r["message_id"] is not None]
        await outbox_repo.suppress_messages(conn, dropped, [WITHDRAWN] * len(dropped))


async def still_answered(conn: asyncpg.Connection, due: Sequence[Due]) -> Collection[int]:
    """A back-in-stock message's consent is its request: it is said only while that request is still
    answered by it (see consumers.BACK_IN_STOCK_DELIVERY)."""
    answered = await repo.answered(conn, [d.request_id for d in due if d.request_id is not None])
    return {d.message_id for d in due if d.device_id is None or d.request_id in answered}
