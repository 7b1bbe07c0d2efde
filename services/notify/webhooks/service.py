"""Registering webhooks and reading their delivery log."""

from __future__ import annotations

from services.notify.context import NotifyContext
from services.notify.webhooks import repository as repo
from services.notify.webhooks.schemas import DeliveryAttempt, DeliveryLog, Webhook, WebhookList, WebhookPut
from services.notify.webhooks.secrets import new_secret, sealed_for
from services.notify.webhooks.urls import WebhookHosts, resolution_refusal
from shared import audit
from shared.errors import Invalid, NotFound
from shared.events import EVENT_TYPES
from shared.sealed import Sealer


async def check_url(ctx: NotifyContext, url: str) -> None:
    hosts = ctx.part(WebhookHosts)
    target = hosts.parse(url)
    if isinstance(target, str):
        raise Invalid(target, field="url")
    reason = await resolution_refusal(hosts, target)
    if reason is not None:
        raise Invalid(reason, field="url")


async def save(ctx: NotifyContext, webhook_id: str, data: WebhookPut) -> Webhook:
    """Create or change a webhook. The secret is made on creation and shown only then: an update keeps
    it and answers without it."""
    unknown = sorted(set(data.events) - set(EVENT_TYPES))
    if unknown:
        raise Invalid(f"unknown event types: {', '.join(unknown)}", field="events")
    await check_url(ctx, data.url)  # resolves the host: before any transaction
    events = sorted(set(data.events))
    secret = new_secret()
    sealed = ctx.part(Sealer).seal(secret.encode(), sealed_for(webhook_id))
    async with ctx.db.transaction() as conn:
        earlier = await repo.webhook(conn, webhook_id, lock=True)
        row, created = await repo.save_webhook(conn, webhook_id, data.url, events, sealed)
        answer = {k: row[k] for k in ("webhook_id", "url", "events", "created_at", "updated_at")}
        saved = Webhook(**answer, secret=secret if created else None)
        await audit.record(conn, ctx.service, earlier and Webhook(**dict(earlier)), saved)  # the secret redacted
    return saved


async def list_webhooks(ctx: NotifyContext) -> WebhookList:
    async with ctx.db.transaction(readonly=True) as conn:
        rows = await repo.webhooks(conn)
    return WebhookList(webhooks=[Webhook(**dict(r)) for r in rows])


async def get(ctx: NotifyContext, webhook_id: str) -> Webhook:
    async with ctx.db.transaction(readonly=True) as conn:
        row = await repo.webhook(conn, webhook_id)
    if row is None:
        raise NotFound(f"unknown webhook {webhook_id!r}", field="webhook_id")
    return Webhook(**dict(row))


async def remove(ctx: NotifyContext, webhook_id: str) -> None:
    """Its queued deliveries go with it: nothing more is sent."""
    async with ctx.db.transaction() as conn:
        earlier = await repo.webhook(conn, webhook_id, lock=True)
        if earlier is None or not await repo.delete_webhook(conn, webhook_id):
            raise NotFound(f"unknown webhook {webhook_id!r}", field="webhook_id")
        await audit.record(conn, ctx.service, Webhook(**dict(earlier)), None)


async def deliveries(ctx: NotifyContext, webhook_id: str, limit: int) -> DeliveryLog:
    async with ctx.db.transaction(readonly=True) as conn:
        if await repo.webhook(conn, webhook_id) is None:
            raise NotFound(f"unknown webhook {webhook_id!r}", field="webhook_id")
        rows = await repo.attempts_of(conn, webhook_id, limit)
    return DeliveryLog(webhook_id=webhook_id, attempts=[DeliveryAttempt(**dict(r)) for r in rows])
