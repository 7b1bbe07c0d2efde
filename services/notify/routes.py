"""notify's HTTP API (API.md, "notify")."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from litestar import Request, delete, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, Parameter

from services.notify import repository as repo
from services.notify.endpoints import auth_refusal, p256dh_refusal
from services.notify.schemas import (
    PURPOSES,
    Campaign,
    CampaignPut,
    ConsentChange,
    ConsentPut,
    Consents,
    DeviceCreate,
    DeviceCreated,
    Message,
    MessageList,
    PushSubscription,
    PushSubscriptionPut,
    VapidPublicKey,
)
from shared import bus
from shared.auth import Caller, Principal
from shared.db import Conn
from shared.errors import Invalid, NotFound
from shared.events import NewEvent
from shared.wire import check_id

SOURCE = "notify"


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise Invalid(f"unknown time zone {name!r}: use an IANA name such as Europe/Paris", field="timezone") from exc
    return name


async def _device_or_404(conn: asyncpg.Connection, device_id: str, principal: Principal) -> asyncpg.Record:
    check_id(device_id, "device_id")
    principal.require_device(device_id)
    device = await repo.get_device(conn, device_id)
    if device is None:
        raise NotFound(f"unknown device {device_id!r}", field="device_id")
    return device


@post("/v1/devices", exclude_from_auth=True, status_code=201)
async def register_device(data: JSONBody[DeviceCreate], conn: Conn, state: State) -> DeviceCreated:
    """Anyone may register a device; the token returned is the only way to act on it."""
    tz = _check_timezone(data.timezone) if data.timezone else "UTC"
    device_id = f"dev_{secrets.token_urlsafe(16)}"
    await repo.create_device(conn, device_id, data.platform, data.locale, tz)
    return DeviceCreated(device_id=device_id, token=state.signer.issue("device", device_id))


def _purposes_of(row: asyncpg.Record | None) -> dict[str, bool]:
    return {p: bool(row[p]) if row else False for p in PURPOSES}


@put("/v1/devices/{device_id:str}/consents")
async def put_consents(
    device_id: FromPath[str], data: JSONBody[ConsentPut], conn: Conn, principal: Caller, request: Request
) -> Consents:
    """Record the answer with its proof and tell the other services, in one transaction: a ping sent
    after this call returns is judged by the new answer."""
    await _device_or_404(conn, device_id, principal)
    current = _purposes_of(await repo.lock_consents(conn, device_id))
    given = {k: v for k, v in msgspec.structs.asdict(data.purposes).items() if v is not None}
    purposes = {**current, **given}
    user_agent = (request.headers.get("user-agent") or "")[:300] or None
    await repo.save_consents(conn, device_id, purposes, data.policy_version, data.shown, user_agent)
    await bus.publish(
        conn,
        SOURCE,
        [
            NewEvent(
                type="consent.changed",
                ts=datetime.now(UTC),
                device_id=device_id,
                data={"purposes": purposes, "policy_version": data.policy_version},
            )
        ],
    )
    return await _consents(conn, device_id)


async def _consents(conn: Conn, device_id: FromPath[str]) -> Consents:
    row = await repo.get_consents(conn, device_id)
    history = [
        ConsentChange(
            at=h["at"],
            policy_version=h["policy_version"],
            purposes=h["purposes"],
            shown=h["shown"],
            user_agent=h["user_agent"],
        )
        for h in await repo.consent_history(conn, device_id)
    ]
    return Consents(
        device_id=device_id,
        purposes=_purposes_of(row),
        policy_version=row["policy_version"] if row else None,
        updated_at=row["updated_at"] if row else None,
        history=history,
    )


@get("/v1/devices/{device_id:str}/consents")
async def get_consents(device_id: FromPath[str], conn: Conn, principal: Caller) -> Consents:
    await _device_or_404(conn, device_id, principal)
    return await _consents(conn, device_id)


@get("/v1/devices/{device_id:str}/messages")
async def get_messages(
    device_id: FromPath[str],
    conn: Conn,
    principal: Caller,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
) -> MessageList:
    """Every decision about this device, newest first: sent, failed or suppressed, with the reason."""
    await _device_or_404(conn, device_id, principal)
    rows = await repo.messages_of(conn, device_id, limit)
    return MessageList(
        device_id=device_id,
        messages=[Message(**{**dict(r), "campaign_id": r["campaign_id"] or None}) for r in rows],
    )


@put("/v1/campaigns/{campaign_id:str}")
async def put_campaign(
    campaign_id: FromPath[str], data: JSONBody[CampaignPut], conn: Conn, principal: Caller
) -> Campaign:
    principal.require_admin()
    check_id(campaign_id, "campaign_id")
    if not data.message:
        raise Invalid('message needs at least one locale, e.g. {"en": {"title", "body"}}', field="message")
    await repo.upsert_campaign(
        conn,
        campaign_id,
        msgspec.to_builtins(data.trigger),
        data.sku,
        msgspec.to_builtins(data.message),
        data.active,
    )
    return Campaign(
        campaign_id=campaign_id, trigger=data.trigger, sku=data.sku, message=data.message, active=data.active
    )


@put("/v1/devices/{device_id:str}/push-subscription")
async def put_push_subscription(
    device_id: FromPath[str], data: JSONBody[PushSubscriptionPut], conn: Conn, principal: Caller, state: State
) -> PushSubscription:
    """Where to push this device's messages (one subscription per device: a new one replaces it).
    Only a browser push service may be named: a subscription must never make us call into our network."""
    await _device_or_404(conn, device_id, principal)
    for field, reason in (
        ("endpoint", state.endpoints.refusal(data.endpoint)),
        ("keys.p256dh", p256dh_refusal(data.keys.p256dh)),
        ("keys.auth", auth_refusal(data.keys.auth)),
    ):
        if reason is not None:
            raise Invalid(reason, field=field)
    row = await repo.save_subscription(conn, device_id, data.endpoint, data.keys.p256dh, data.keys.auth)
    return PushSubscription(device_id=device_id, **dict(row))


@delete("/v1/devices/{device_id:str}/push-subscription")
async def delete_push_subscription(device_id: FromPath[str], conn: Conn, principal: Caller) -> None:
    """The browser unsubscribed: pushes stop; messages decided from now on are `no_subscription`."""
    await _device_or_404(conn, device_id, principal)
    await repo.delete_subscription(conn, device_id)


@get("/v1/vapid-public-key", exclude_from_auth=True, sync_to_thread=False)
def get_vapid_public_key(state: State) -> VapidPublicKey:
    return VapidPublicKey(public_key=state.vapid.public_key)


ROUTES = [
    register_device,
    put_consents,
    get_consents,
    get_messages,
    put_campaign,
    put_push_subscription,
    delete_push_subscription,
    get_vapid_public_key,
]
