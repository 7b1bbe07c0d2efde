"""A person's rights over their data: see it all (export), erase it everywhere, know what is kept and
why (the privacy notice, see notice.py)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import asyncpg
import httpx
import msgspec

from services.notify.back_in_stock import repository as back_in_stock_repo
from services.notify.consent import repository as consent_repo
from services.notify.consent.service import known_device
from services.notify.context import NotifyContext
from services.notify.journeys import repository as journeys_repo
from services.notify.offers import repository as offers_repo
from services.notify.outbox import repository as outbox_repo
from services.notify.outbox.messages import Addressee
from services.notify.privacy import notice
from services.notify.privacy import repository as repo
from services.notify.privacy.schemas import Erasure, Export, NotifyPart, PeerNotice, PeerOrderPage, PrivacyNotice
from services.notify.staff_alerts import repository as staff_repo
from services.notify.staff_alerts.streams import payload_of
from services.notify.webhooks import repository as webhook_repo
from shared import erasure, peers
from shared.errors import BadGateway, NotFound
from shared.events import AnyEvent, ErasureRequested, ErasureRequestedData

T = TypeVar("T")

ERASED_ELSEWHERE = ["geo", "inventory"]  # notify erases its own part in the request itself


def erasure_answer(row: asyncpg.Record) -> Erasure:
    return Erasure(
        erasure_id=row["erasure_id"],
        status="completed" if row["completed_at"] else "pending",
        pending=list(row["pending"]),
        requested_at=row["requested_at"],
        completed_at=row["completed_at"],
        status_url=f"/v1/erasures/{row['erasure_id']}",
    )


async def erase(ctx: NotifyContext, device_id: str) -> tuple[Erasure, bool]:
    """Erase the device everywhere: notify's part and the token's revocation now, in one transaction
    with `erasure.requested`, which geo and inventory confirm on the bus. Returns the request and
    whether it is new (asking again answers the same request)."""
    subject = erasure.pseudonym(ctx.settings.token_key, device_id)
    async with ctx.db.transaction() as conn:
        if not await consent_repo.lock_device_to_erase(conn, device_id):
            earlier = await repo.erasure_of_subject(conn, subject)
            if earlier is None:
                raise NotFound(f"unknown device {device_id!r}", field="device_id")
            return erasure_answer(earlier), False
        row = await _erase_locked(ctx, conn, device_id, subject)
    _refuse_tokens_here(ctx, device_id)
    return erasure_answer(row), True


async def erase_if_unconsented(ctx: NotifyContext, device_id: str, registered_before: datetime) -> bool:
    """Erase, as the shopper could have, a device registered before then that never recorded a consent:
    no answer about the purposes, and no back-in-stock request (one is kept with its proof, as a consent
    is: the shopper asked for that message). False when it has one, made since it was found or not, or
    is gone: the shopper's word wins."""
    subject = erasure.pseudonym(ctx.settings.token_key, device_id)
    async with ctx.db.transaction() as conn:
        if not await consent_repo.lock_unconsented(conn, device_id, registered_before):
            return False
        if await back_in_stock_repo.has_requested(conn, device_id):  # read with the device locked, as above
            return False
        await _erase_locked(ctx, conn, device_id, subject)
    _refuse_tokens_here(ctx, device_id)
    return True


def _tokens_until(ctx: NotifyContext) -> datetime:
    """Every token of a device erased now has expired by then: its revocation can go then."""
    return datetime.now(UTC) + timedelta(days=ctx.config.device_token_ttl_days, minutes=5)


def _refuse_tokens_here(ctx: NotifyContext, device_id: str) -> None:
    """This process refuses the device's tokens at once (the others learn it from the commit)."""
    ctx.revocations.add(ctx.signer.subject_mark(device_id), _tokens_until(ctx))


async def _erase_locked(ctx: NotifyContext, conn: asyncpg.Connection, device_id: str, subject: str) -> asyncpg.Record:
    """notify's part of an erasure, the token's revocation and `erasure.requested`, in the caller's
    transaction, which has locked the device row first (FOR UPDATE); the erasure request made.

    The clean-up below sees every row a consumer made about the device, however the two interleave:
    - a consumer holding the device row (lock_device, hold_device: pickup updates, offers, journeys,
      back-in-stock, webhooks, notify's record of orders) commits before our lock is granted, and each
      statement below, begun after, sees what it wrote; one that asks after our lock waits for our
      commit, then finds the device gone and writes nothing;
    - the staff alerts' consumer locks no device row: within a batch it would wait for one while
      holding the alert positions' lock from an earlier event, which we take below (a deadlock).
      It reads the device in the statement that inserts the alert, under that lock
      (staff_repo.insert_alert); close_alerts_of_device takes the same lock before the alert
      clean-up: an alert inserted before is seen, one after finds the device gone."""
    erasure_id = f"era_{secrets.token_urlsafe(16)}"
    await ctx.revocations.revoke(conn, ctx.signer.subject_mark(device_id), _tokens_until(ctx))
    closed = await staff_repo.close_alerts_of_device(conn, device_id)
    await staff_repo.announce(conn, [payload_of(r) for r in closed])
    await outbox_repo.delete_messages_of(conn, device_id)  # with what the device reported about them
    await offers_repo.forget_orders_of(conn, device_id)
    await webhook_repo.delete_of_device(conn, device_id)
    await staff_repo.forget_shopper(conn, device_id)
    await back_in_stock_repo.delete_of_device(conn, device_id)  # with their proof: they answer nothing now
    await journeys_repo.forget_device(conn, device_id, datetime.now(UTC))  # results keep an anonymous count
    await consent_repo.erase_device(conn, device_id, subject)
    row = await repo.create_erasure(conn, erasure_id, subject, device_id, ERASED_ELSEWHERE)
    requested = ErasureRequested(
        ts=datetime.now(UTC), device_id=device_id, data=ErasureRequestedData(erasure_id=erasure_id)
    )
    await ctx.publish(conn, [requested])
    return row


async def erasure_status(ctx: NotifyContext, erasure_id: str) -> Erasure:
    async with ctx.db.transaction(readonly=True) as conn:
        row = await repo.get_erasure(conn, erasure_id)
    if row is None:
        raise NotFound(f"unknown erasure {erasure_id!r}", field="erasure_id")
    return erasure_answer(row)


ORDER_PAGE = 500


async def _from_peer(ctx: NotifyContext, service: str, path: str, answer: type[T]) -> T | None:
    try:
        return await peers.get_answer(ctx, service, path, answer)
    except peers.PeerError as exc:
        raise BadGateway(f"{service} cannot give its part of the export right now; retry shortly") from exc


async def _every_order(ctx: NotifyContext, device_id: str) -> dict[str, Any] | None:
    """inventory answers a shopper's orders a page at a time: the export holds every page."""
    orders: list[dict[str, Any]] = []
    before = None
    while True:
        query = f"?limit={ORDER_PAGE}" + (f"&before={before}" if before else "")
        page = await _from_peer(ctx, "inventory", f"/v1/devices/{device_id}/orders{query}", PeerOrderPage)
        if page is None:
            return None
        orders += page.orders
        if (before := page.next_before) is None:
            return {"orders": orders}


def _exported_target(row: asyncpg.Record | None) -> dict[str, Any] | None:
    """Where the device's messages are pushed: a Web Push endpoint, or a native app's device token."""
    if row is None:
        return None
    address = "endpoint" if row["provider"] == "webpush" else "token"
    target = {"provider": row["provider"], address: row["address"], "environment": row["environment"]}
    return {k: v for k, v in target.items() if v is not None} | {
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


async def export(ctx: NotifyContext, device_id: str) -> AsyncIterator[bytes]:
    """All data held about the device, from the three services and the event log, in one document:
    the JSON of Export, written as it comes. geo's part (a day of fixes) is relayed as geo writes it,
    never held whole. Everything that can refuse the export (an unknown device, a peer that cannot
    answer) does so before the first chunk. The other services are asked with no transaction open;
    notify's part is then read in one snapshot."""
    async with ctx.db.transaction(readonly=True) as conn:
        await known_device(conn, device_id)
    inventory = await _every_order(ctx, device_id)
    async with _peer_stream(ctx, "geo", f"/v1/devices/{device_id}/data") as geo:
        async with ctx.db.transaction(isolation="repeatable_read", readonly=True) as conn:
            device = await known_device(conn, device_id)
            consents = await consent_repo.get_consents(conn, device_id)
            target = await outbox_repo.target_of(conn, Addressee("device", device_id))
            part = NotifyPart(
                device=dict(device),
                consents=dict(consents) if consents else None,
                consent_history=[dict(r) for r in await consent_repo.consent_history(conn, device_id)],
                push_subscription=_exported_target(target),
                messages=[dict(r) for r in await outbox_repo.messages_of(conn, device_id, 100_000)],
                staff_alerts=[dict(r) for r in await staff_repo.alerts_about(conn, device_id)],
                back_in_stock=[dict(r) for r in await back_in_stock_repo.requests_of(conn, device_id)],
                journeys=[dict(r) for r in await journeys_repo.device_enrollments(conn, device_id)],
            )
            events = [msgspec.convert(dict(r), AnyEvent) for r in await repo.events_about(conn, device_id)]
        # geo's part goes where a marker no data can hold (a fresh random one) is written.
        marker = None if geo is None else secrets.token_hex(16)
        document = msgspec.json.encode(
            Export(
                device_id=device_id,
                exported_at=datetime.now(UTC),
                notify=part,
                geo=marker,
                inventory=inventory,
                events=events,
            )
        )
        if geo is None:
            yield document
            return
        before, after = document.split(msgspec.json.encode(marker), 1)
        yield before
        async for chunk in geo.aiter_bytes():
            yield chunk
        yield after


@asynccontextmanager
async def _peer_stream(ctx: NotifyContext, service: str, path: str) -> AsyncIterator[httpx.Response | None]:
    try:
        async with peers.get_stream(ctx, service, path) as response:
            yield response
    except peers.PeerError as exc:
        raise BadGateway(f"{service} cannot give its part of the export right now; retry shortly") from exc


async def privacy_notice(ctx: NotifyContext, lang: str | None) -> PrivacyNotice:
    """What is collected, for which purpose, kept how long: from each service's running settings."""
    parts: dict[str, Any] = {"notify": notice.collection(ctx.config)}
    for service in ERASED_ELSEWHERE:
        try:
            answer = await peers.get_answer(ctx, service, "/v1/privacy", PeerNotice)
            parts[service] = None if answer is None else answer.collects
        except peers.PeerError:
            parts[service] = None  # that service is unreachable right now: say so rather than guess
    document: dict[str, Any] = {
        "purposes": notice.purposes(),
        "collects": parts,
        "rights": notice.RIGHTS,
        "never": notice.NEVER,
    }
    if lang:
        document = notice.in_language(document, lang)
    return msgspec.convert(document, PrivacyNotice)
