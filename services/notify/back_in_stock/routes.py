"""Back-in-stock requests: a device asks to be told when a product is back at a store, or stops asking."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, put
from litestar.params import JSONBody

from services.notify.back_in_stock import service
from services.notify.back_in_stock.schemas import BackInStockPut, BackInStockRequest
from services.notify.context import NotifyContext
from shared.auth import Caller
from shared.context import FromContext
from shared.errors import Forbidden, errors
from shared.wire import PathId

PATH = "/v1/devices/{device_id:str}/back-in-stock/{store_id:str}/{sku:str}"


def _check(principal: Caller, device_id: str, store_id: str, sku: str) -> None:
    """The shopper's own request, from their own device: not even the operator asks on their behalf."""
    if principal.role != "device":
        raise Forbidden("this call needs the device's own token")
    if principal.subject != device_id:
        raise Forbidden("a device may act on its own data only")


@put(PATH, responses=errors(409))
async def put_back_in_stock(
    device_id: PathId,
    store_id: PathId,
    sku: PathId,
    principal: Caller,
    request: Request[Any, Any, Any],
    ctx: FromContext[NotifyContext],
    data: JSONBody[BackInStockPut | None] = None,
) -> BackInStockRequest:
    """Tell this device, once, when the product is back at the store (the request lapses unanswered
    after ACCUEIL_BACK_IN_STOCK_DAYS). Asking again while it is open answers the same request."""
    _check(principal, device_id, store_id, sku)
    user_agent = (request.headers.get("user-agent") or "")[:300] or None
    return await service.ask(ctx, device_id, store_id, sku, data, user_agent)


@delete(PATH)
async def delete_back_in_stock(
    device_id: PathId,
    store_id: PathId,
    sku: PathId,
    principal: Caller,
    ctx: FromContext[NotifyContext],
) -> None:
    """Stop waiting: nothing will be said about it, not even a message held through quiet hours."""
    _check(principal, device_id, store_id, sku)
    await service.withdraw(ctx, device_id, store_id, sku)


ROUTES = [put_back_in_stock, delete_back_in_stock]
