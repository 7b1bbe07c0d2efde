"""The outbox's use cases, and what other features do with it inside their own transactions: queue a
decided message (a shopper's or a staff member's, the same way), know what a device was told lately,
check a consent again as a message of theirs is sent."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from services.notify.consent import repository as consent_repo
from services.notify.consent.service import known_device, purposes_of
from services.notify.context import NotifyContext
from services.notify.outbox import repository as repo
from services.notify.outbox.kinds import DeliveryKind, Due, StillWanted
from services.notify.outbox.messages import Addressee, Outgoing
from services.notify.outbox.schemas import (
    APNS_TOKEN,
    FCM_TOKEN,
    Message,
    MessageEvent,
    MessageEventPost,
    MessageList,
    PushSubscriptionPut,
    PushToken,
    PushTokenPut,
)
from services.notify.policy.decide import Past, Recipient
from services.notify.push.channel import NATIVE, Target
from services.notify.push.channels import Channels
from services.notify.push.push_urls import PushServices, auth_refusal, p256dh_refusal
from shared.errors import Conflict, Invalid, NotFound
from shared.events import Purpose

RECENT_DAYS = 8
"""How far back caps and duplicates look: a local ISO week, whatever the device's time zone."""


async def queue(conn: asyncpg.Connection, messages: Sequence[Outgoing]) -> int:
    """Record decided messages, each once (a redelivered event records nothing); the senders wake on
    commit if one is due. Returns how many were recorded."""
    statuses = await repo.insert_messages(conn, messages)
    if "pending" in statuses:
        await repo.wake_senders(conn)
    return len(statuses)


async def release(conn: asyncpg.Connection, ids: list[int], kind: DeliveryKind) -> None:
    """Held messages of this kind become due now, each worth sending for the kind's TTL."""
    await repo.release_held(conn, ids, [kind.ttl_s] * len(ids))
    if ids:
        await repo.wake_senders(conn)


def while_consented(purpose: Purpose) -> StillWanted:
    """A kind's check, as its messages are sent, that the device still consents to the purpose: the
    answer may have been withdrawn since the decision (an offer held through quiet hours, a retry)."""

    async def still_consented(conn: asyncpg.Connection, due: Sequence[Due]) -> Collection[int]:
        devices = [d.device_id for d in due if d.device_id is not None]
        consenting = await consent_repo.consenting(conn, purpose, devices)
        return {d.message_id for d in due if d.device_id is None or d.device_id in consenting}

    return still_consented


async def recipient_of(conn: asyncpg.Connection, device: asyncpg.Record) -> Recipient:
    """What a decision needs to know about a device: consents, language, time zone, reachability,
    and the messages recently said or on their way to it."""
    device_id = device["device_id"]
    row = await consent_repo.get_consents(conn, device_id)
    recent = await repo.recent_messages(conn, device_id, RECENT_DAYS)
    return Recipient(
        consents=purposes_of(row) if row else {},
        locale=device["locale"],
        timezone=device["timezone"],
        subscribed=await repo.has_target(conn, Addressee("device", device_id)),
        recent=tuple(Past(r["event_id"], r["purpose"], r["store_id"], r["sku"], r["decided_at"]) for r in recent),
    )


async def messages_of(ctx: NotifyContext, device_id: str, limit: int) -> MessageList:
    """Every decision about this device, newest first: sent, failed or suppressed, with the reason."""
    async with ctx.db.transaction(readonly=True) as conn:
        await known_device(conn, device_id)
        rows = await repo.messages_of(conn, device_id, limit)
    return MessageList(
        device_id=device_id,
        messages=[Message(**{**dict(r), "campaign_id": r["campaign_id"] or None}) for r in rows],
    )


async def _known_recipient(conn: asyncpg.Connection, to: Addressee) -> None:
    if not await repo.recipient_exists(conn, to):
        what = "device" if to.kind == "device" else "staff member"
        raise NotFound(f"unknown {what} {to.id!r}", field=to.field)


def _check_subscription(ctx: NotifyContext, data: PushSubscriptionPut) -> None:
    """Only a browser push service may be named: a subscription must never make us call into our network."""
    for field, reason in (
        ("endpoint", ctx.part(PushServices).refusal(data.endpoint)),
        ("keys.p256dh", p256dh_refusal(data.keys.p256dh)),
        ("keys.auth", auth_refusal(data.keys.auth)),
    ):
        if reason is not None:
            raise Invalid(reason, field=field)


async def subscribe(ctx: NotifyContext, to: Addressee, data: PushSubscriptionPut) -> asyncpg.Record:
    """Where to push the recipient's messages (one target each: a subscription replaces a native token
    or an older subscription)."""
    async with ctx.db.transaction() as conn:
        await _known_recipient(conn, to)
        _check_subscription(ctx, data)
        target = Target("webpush", data.endpoint, p256dh=data.keys.p256dh, auth=data.keys.auth)
        row = await repo.save_target(conn, to, target)
    return row


async def unsubscribe(ctx: NotifyContext, to: Addressee) -> None:
    """The browser unsubscribed: pushes stop; a shopper's messages decided from now on are `no_subscription`."""
    async with ctx.db.transaction() as conn:
        await _known_recipient(conn, to)
        await repo.delete_target(conn, to, ["webpush"])


def _native_target(ctx: NotifyContext, data: PushTokenPut) -> Target:
    """The token as a target, if its provider is configured here and the token looks like one of its own."""
    if not ctx.part(Channels).configured(data.provider):
        raise Invalid(f"{data.provider} is not configured on this server", field="provider")
    if data.provider == "apns":
        if not re.fullmatch(APNS_TOKEN, data.token):
            raise Invalid("an APNs device token is 64 to 200 hexadecimal digits", field="token")
        return Target("apns", data.token.lower(), environment=data.environment or "production")
    if data.environment is not None:
        raise Invalid("environment is for APNs tokens only", field="environment")
    if not re.fullmatch(FCM_TOKEN, data.token):
        raise Invalid("an FCM registration token is 20 to 4096 of A-Z a-z 0-9 _ : . -", field="token")
    return Target("fcm", data.token)


def token_answer(row: asyncpg.Record) -> PushToken:
    return PushToken(provider=row["provider"], environment=row["environment"], updated_at=row["updated_at"])


async def set_push_token(ctx: NotifyContext, to: Addressee, data: PushTokenPut) -> asyncpg.Record:
    """A native app's token: it replaces the recipient's target, whatever it was."""
    target = _native_target(ctx, data)
    async with ctx.db.transaction() as conn:
        await _known_recipient(conn, to)
        return await repo.save_target(conn, to, target)


async def remove_push_token(ctx: NotifyContext, to: Addressee) -> None:
    """The app turned notifications off: pushes stop, unless the recipient's target is a browser's now."""
    async with ctx.db.transaction() as conn:
        await _known_recipient(conn, to)
        await repo.delete_target(conn, to, NATIVE)


REPORT_SKEW = timedelta(minutes=5)
"""How far ahead of our clock a device's report may be dated (its clock drifts)."""


async def record_engagement(
    ctx: NotifyContext, device_id: str, message_id: int, data: MessageEventPost
) -> MessageEvent:
    """The device saw, clicked or dismissed a message sent to it: each type counts once per message."""
    unknown = NotFound(f"unknown message {message_id} for this device", field="message_id")
    async with ctx.db.transaction() as conn:
        message = await repo.message_for_device(conn, message_id, device_id)
        if message is None:
            raise unknown
        if message["status"] != "sent":
            raise Conflict(f"message {message_id} was not sent (it is {message['status']})", field="message_id")
        if data.ts > datetime.now(UTC) + REPORT_SKEW or data.ts < message["sent_at"]:
            raise Invalid("ts must be after the message was sent and not in the future", field="ts")
        row = await repo.record_message_event(conn, message_id, data.type, data.ts)
    if row is None:  # recorded by a concurrent report of the same type
        return MessageEvent(message_id=message_id, type=data.type, ts=data.ts, counted=False)
    return MessageEvent(message_id=message_id, type=data.type, ts=row["ts"], counted=row["counted"])
