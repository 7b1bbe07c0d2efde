"""Registering a device, and its answers about each purpose: recorded with their proof and told to
the other services in one transaction, so a ping sent after the answer returns is judged by it."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from services.notify.consent import receipts
from services.notify.consent import repository as repo
from services.notify.consent.schemas import ConsentChange, ConsentPut, Consents, DeviceCreate, DeviceCreated
from services.notify.context import NotifyContext
from shared import budgets, keys
from shared.auth import Principal
from shared.errors import Forbidden, Invalid, NotFound, TooManyRequests, Unauthorized
from shared.events import PURPOSES, ConsentChanged, ConsentData, Purpose


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise Invalid(f"unknown time zone {name!r}: use an IANA name such as Europe/Paris", field="timezone") from exc
    return name


async def known_device(conn: asyncpg.Connection, device_id: str) -> asyncpg.Record:
    """The device, or the 404 every route about an unknown device answers."""
    device = await repo.get_device(conn, device_id)
    if device is None:
        raise NotFound(f"unknown device {device_id!r}", field="device_id")
    return device


def purposes_of(row: asyncpg.Record | None) -> dict[Purpose, bool]:
    """Every purpose's answer: one never given is no."""
    return {p: bool(row[p]) if row else False for p in PURPOSES}


def only_withdraws(before: dict[Purpose, bool], after: dict[Purpose, bool]) -> bool:
    """Whether an answer takes back a yes and gives none: such an answer is never refused by the budget
    (withdrawing must stay as easy as consenting). It cannot grow the history without bound either:
    each one turns a yes to no, and only a budgeted answer turns a no to yes."""
    return not any(after[p] and not before[p] for p in PURPOSES) and any(before[p] and not after[p] for p in PURPOSES)


def budget_holder(address: str) -> str:
    """Who a registration budget belongs to: an IPv4 address, or an IPv6 address's /64. One subscriber
    (a home, a phone) is given a whole /64 and may use any address in it: a budget per /128 would give
    one script 2^64 budgets."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def address_key(ctx: NotifyContext, address: str) -> bytes:
    """The client's budget holder as the registration budget keeps it: a keyed hash, useless without the key."""
    holder = budget_holder(address).encode()
    return hmac.new(keys.derive(ctx.settings.token_key, keys.ADDRESSES), holder, hashlib.sha256).digest()


async def register_device(ctx: NotifyContext, data: DeviceCreate, address: str) -> DeviceCreated:
    """Anyone may register a device, a budget per client address and hour; the token returned is the only
    way to act on it."""
    tz = check_timezone(data.timezone) if data.timezone else "UTC"
    device_id = f"dev_{secrets.token_urlsafe(16)}"
    async with ctx.db.transaction() as conn:
        used, since = await repo.spend_registration(conn, address_key(ctx, address))
        if used > ctx.config.registrations_per_hour:
            wait = max(1, math.ceil((since + timedelta(hours=1) - datetime.now(UTC)).total_seconds()))
            raise TooManyRequests(
                f"at most {ctx.config.registrations_per_hour} devices an hour from one address: retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        await repo.create_device(conn, device_id, data.platform, data.locale, tz)
    return device_token(ctx, device_id)


def device_token(ctx: NotifyContext, device_id: str) -> DeviceCreated:
    now = int(time.time())
    ttl_s = ctx.config.device_token_ttl_days * 86_400
    token = ctx.signer.issue("device", device_id, ttl_s=ttl_s, now=now)
    return DeviceCreated(device_id=device_id, token=token, expires_at=datetime.fromtimestamp(now + ttl_s, UTC))


def revocation_until(principal: Principal) -> datetime:
    """How long revoking the caller's token must last: until it would have expired."""
    if math.isinf(principal.expires):  # a token made without expiry: revoked for good
        return datetime.now(UTC) + timedelta(days=365 * 100)
    return datetime.fromtimestamp(principal.expires, UTC)


async def rotate_token(ctx: NotifyContext, principal: Principal, device_id: str) -> DeviceCreated:
    """The device trades its token for a fresh one: the old one is revoked in the same transaction, and
    a token can be traded once (two rotations at once: the second is refused)."""
    if principal.role != "device" or principal.subject != device_id:
        raise Forbidden("a device rotates its own token only")
    if principal.token_id is None:
        raise Unauthorized("this token cannot be rotated: register the device again")
    until = revocation_until(principal)
    async with ctx.db.transaction() as conn:
        await known_device(conn, device_id)
        if not await ctx.revocations.revoke(conn, principal.token_id, until):
            raise Unauthorized("token revoked")
    ctx.revocations.add(principal.token_id, until)  # this process refuses it at once
    return device_token(ctx, device_id)


async def answer_consents(ctx: NotifyContext, device_id: str, data: ConsentPut, user_agent: str | None) -> Consents:
    """Record the answer with its proof and publish `consent.changed`, in one transaction."""
    async with ctx.db.transaction() as conn:
        device = await known_device(conn, device_id)
        answered = msgspec.structs.asdict(data.purposes)
        given: dict[Purpose, bool] = {p: answered[p] for p in PURPOSES if answered.get(p) is not None}
        if not given:  # an answer about nothing we ask (a misspelt or unknown purpose) is no answer
            raise Invalid(f"purposes: give at least one of {', '.join(PURPOSES)}", field="purposes")
        before = purposes_of(await repo.lock_consents(conn, device_id))
        purposes = {**before, **given}
        latest = await repo.latest_answer(conn, device_id)
        if latest is not None and (latest["purposes"], latest["policy_version"], latest["shown"]) == (
            purposes,
            data.policy_version,
            data.shown,
        ):
            return await _consents(ctx, conn, device)  # the same answer again: nothing new to prove
        if not only_withdraws(before, purposes):
            now = datetime.now(UTC)
            recent = await repo.answers_since(conn, device_id, now - timedelta(hours=1))
            budgets.spend_hourly(recent, ctx.config.consent_changes_per_hour, now, "consent changes")
        await repo.save_consents(conn, device_id, purposes, data.policy_version, data.shown, user_agent)
        changed = ConsentChanged(
            ts=datetime.now(UTC),
            device_id=device_id,
            data=ConsentData(purposes=purposes, policy_version=data.policy_version),
        )
        await ctx.publish(conn, [changed])
        return await _consents(ctx, conn, device)


async def consents_of(ctx: NotifyContext, device_id: str, after: int = 0) -> Consents:
    async with ctx.db.transaction(readonly=True) as conn:
        device = await known_device(conn, device_id)
        return await _consents(ctx, conn, device, after)


HISTORY_PAGE = 100


def _receipt_of(ctx: NotifyContext, device: asyncpg.Record, entry: asyncpg.Record) -> dict[str, object]:
    return receipts.claims(
        entry_id=entry["id"],
        device_id=device["device_id"],
        at=entry["at"],
        policy_version=entry["policy_version"],
        purposes=entry["purposes"],
        collection_method=f"the person's own answer on their device ({device['platform']}), through the accueil API",
        controller=ctx.config.controller_name,
        jurisdiction=ctx.config.jurisdiction,
    )


async def _consents(ctx: NotifyContext, conn: asyncpg.Connection, device: asyncpg.Record, after: int = 0) -> Consents:
    """The current answers, and the history with its proof and a signed receipt of each entry, oldest
    first, a page at a time."""
    device_id = device["device_id"]
    row = await repo.get_consents(conn, device_id)
    rows = await repo.consent_history(conn, device_id, HISTORY_PAGE + 1, after)
    page = rows[:HISTORY_PAGE]
    key = receipts.receipt_key(ctx.settings.token_key, ctx.settings.token_key_version)
    history = [
        ConsentChange(
            at=h["at"],
            policy_version=h["policy_version"],
            purposes=h["purposes"],
            shown=h["shown"],
            user_agent=h["user_agent"],
            receipt=receipts.sign(key, _receipt_of(ctx, device, h)),
        )
        for h in page
    ]
    return Consents(
        device_id=device_id,
        purposes=purposes_of(row),
        policy_version=row["policy_version"] if row else None,
        updated_at=row["updated_at"] if row else None,
        history=history,
        history_next_after=page[-1]["id"] if len(rows) > HISTORY_PAGE else None,
    )
