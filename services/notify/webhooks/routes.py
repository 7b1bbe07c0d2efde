"""Outbound webhooks (Standard Webhooks): the operator registers URLs for event types."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, put
from litestar.params import JSONBody, Parameter

from services.notify.context import NotifyContext
from services.notify.webhooks import service
from services.notify.webhooks.schemas import DeliveryLog, Webhook, WebhookList, WebhookPut
from shared.auth import Caller
from shared.context import FromContext
from shared.wire import PathId


@put("/v1/webhooks/{webhook_id:str}")
async def put_webhook(
    webhook_id: PathId, data: JSONBody[WebhookPut], principal: Caller, ctx: FromContext[NotifyContext]
) -> Webhook:
    """Send these event types to this URL, signed. The secret is in the answer that creates the
    webhook only; changing a webhook keeps its secret."""
    principal.require_admin()
    return await service.save(ctx, webhook_id, data)


@get("/v1/webhooks")
async def get_webhooks(principal: Caller, ctx: FromContext[NotifyContext]) -> WebhookList:
    principal.require_admin()
    return await service.list_webhooks(ctx)


@get("/v1/webhooks/{webhook_id:str}")
async def get_webhook(webhook_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> Webhook:
    principal.require_admin()
    return await service.get(ctx, webhook_id)


@delete("/v1/webhooks/{webhook_id:str}")
async def delete_webhook(webhook_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> None:
    principal.require_admin()
    await service.remove(ctx, webhook_id)


@get("/v1/webhooks/{webhook_id:str}/deliveries")
async def get_deliveries(
    webhook_id: PathId,
    principal: Caller,
    ctx: FromContext[NotifyContext],
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
) -> DeliveryLog:
    """The latest attempts, newest first: event id, status code or error, when, next retry."""
    principal.require_admin()
    return await service.deliveries(ctx, webhook_id, limit)


ROUTES = [put_webhook, get_webhooks, get_webhook, delete_webhook, get_deliveries]
