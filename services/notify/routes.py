"""notify's HTTP API (API.md, "notify")."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Annotated
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, Parameter, PathParameter, QueryParameter
from litestar.response import ServerSentEvent

from services.notify import repository as repo
from services.notify import streams
from services.notify.alerts import answer
from services.notify.context import NotifyContext
from services.notify.decide import FALLBACK_LOCALE
from services.notify.endpoints import auth_refusal, p256dh_refusal
from services.notify.schemas import (
    PURPOSES,
    Alert,
    AlertList,
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
    Staff,
    StaffCreate,
    StaffCreated,
    StaffPushSubscription,
    StreamTicket,
    VapidPublicKey,
)
from shared import bus, peers
from shared.auth import Caller, Principal
from shared.context import FromContext
from shared.db import Conn
from shared.errors import BadGateway, Conflict, Forbidden, Invalid, NotFound, Unauthorized
from shared.events import ConsentChanged, ConsentData
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
async def register_device(data: JSONBody[DeviceCreate], conn: Conn, ctx: FromContext[NotifyContext]) -> DeviceCreated:
    """Anyone may register a device; the token returned is the only way to act on it."""
    tz = _check_timezone(data.timezone) if data.timezone else "UTC"
    device_id = f"dev_{secrets.token_urlsafe(16)}"
    await repo.create_device(conn, device_id, data.platform, data.locale, tz)
    return DeviceCreated(device_id=device_id, token=ctx.signer.issue("device", device_id))


def _purposes_of(row: asyncpg.Record | None) -> dict[str, bool]:
    return {p: bool(row[p]) if row else False for p in PURPOSES}


@put("/v1/devices/{device_id:str}/consents")
async def put_consents(
    device_id: FromPath[str], data: JSONBody[ConsentPut], conn: Conn, principal: Caller, request: Request
) -> Consents:
    """Record the answer with its proof and tell the other services, in one transaction: a ping sent
    after this call returns is judged by the new answer."""
    await _device_or_404(conn, device_id, principal)
    given = {k: v for k, v in msgspec.structs.asdict(data.purposes).items() if v is not None}
    if not given:  # an answer about nothing we ask (a misspelt or unknown purpose) is no answer
        raise Invalid("purposes: give at least one of location, pickup_updates, offers", field="purposes")
    current = _purposes_of(await repo.lock_consents(conn, device_id))
    purposes = {**current, **given}
    user_agent = (request.headers.get("user-agent") or "")[:300] or None
    await repo.save_consents(conn, device_id, purposes, data.policy_version, data.shown, user_agent)
    await bus.publish(
        conn,
        SOURCE,
        [
            ConsentChanged(
                ts=datetime.now(UTC),
                device_id=device_id,
                data=ConsentData(purposes=purposes, policy_version=data.policy_version),
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


def _check_subscription(data: PushSubscriptionPut, ctx: NotifyContext) -> None:
    for field, reason in (
        ("endpoint", ctx.endpoints.refusal(data.endpoint)),
        ("keys.p256dh", p256dh_refusal(data.keys.p256dh)),
        ("keys.auth", auth_refusal(data.keys.auth)),
    ):
        if reason is not None:
            raise Invalid(reason, field=field)


@put("/v1/devices/{device_id:str}/push-subscription")
async def put_push_subscription(
    device_id: FromPath[str],
    data: JSONBody[PushSubscriptionPut],
    conn: Conn,
    principal: Caller,
    ctx: FromContext[NotifyContext],
) -> PushSubscription:
    """Where to push this device's messages (one subscription per device: a new one replaces it).
    Only a browser push service may be named: a subscription must never make us call into our network."""
    await _device_or_404(conn, device_id, principal)
    _check_subscription(data, ctx)
    row = await repo.save_subscription(conn, device_id, data.endpoint, data.keys.p256dh, data.keys.auth)
    return PushSubscription(device_id=device_id, **dict(row))


@delete("/v1/devices/{device_id:str}/push-subscription")
async def delete_push_subscription(device_id: FromPath[str], conn: Conn, principal: Caller) -> None:
    """The browser unsubscribed: pushes stop; messages decided from now on are `no_subscription`."""
    await _device_or_404(conn, device_id, principal)
    await repo.delete_subscription(conn, device_id)


@get("/v1/vapid-public-key", exclude_from_auth=True, sync_to_thread=False)
def get_vapid_public_key(ctx: FromContext[NotifyContext]) -> VapidPublicKey:
    return VapidPublicKey(public_key=ctx.vapid.public_key)


# --- staff and their pickup alerts ---


@post("/v1/stores/{store_id:str}/staff", status_code=201)
async def create_staff(
    store_id: FromPath[str], data: JSONBody[StaffCreate], conn: Conn, principal: Caller, ctx: FromContext[NotifyContext]
) -> StaffCreated:
    """A staff member of one store, and the token they sign in with: it acts on that store only."""
    principal.require_admin()
    check_id(store_id, "store_id")
    try:
        status, _ = await peers.get_json(ctx, "geo", f"/v1/stores/{store_id}")
    except peers.PeerError as exc:
        raise BadGateway("geo cannot confirm the store right now; retry shortly") from exc
    if status == 404:
        raise NotFound(f"unknown store {store_id!r}", field="store_id")
    name = " ".join(data.name.split())
    row = await repo.create_staff(conn, f"stf_{secrets.token_urlsafe(12)}", store_id, name, data.locale)
    return StaffCreated(
        staff_id=row["staff_id"],
        token=ctx.signer.issue("staff", row["staff_id"], store_id=store_id),
        store_id=store_id,
        name=row["name"],
        locale=row["locale"],
    )


async def _staff_or_404(conn: asyncpg.Connection, staff_id: str, principal: Principal) -> asyncpg.Record:
    check_id(staff_id, "staff_id")
    if not principal.is_trusted and (principal.role != "staff" or principal.subject != staff_id):
        raise Forbidden("a staff member may act on their own profile only")
    staff = await repo.get_staff(conn, staff_id)
    if staff is None:
        raise NotFound(f"unknown staff member {staff_id!r}", field="staff_id")
    return staff


@get("/v1/staff/{staff_id:str}")
async def get_staff(staff_id: FromPath[str], conn: Conn, principal: Caller) -> Staff:
    """Who a staff token belongs to (the staff page shows it after sign-in)."""
    return Staff(**dict(await _staff_or_404(conn, staff_id, principal)))


@put("/v1/staff/{staff_id:str}/push-subscription")
async def put_staff_push_subscription(
    staff_id: FromPath[str],
    data: JSONBody[PushSubscriptionPut],
    conn: Conn,
    principal: Caller,
    ctx: FromContext[NotifyContext],
) -> StaffPushSubscription:
    """Where to push this staff member's alerts (one device: a new subscription replaces the last);
    checked like a shopper's."""
    await _staff_or_404(conn, staff_id, principal)
    _check_subscription(data, ctx)
    row = await repo.save_staff_subscription(conn, staff_id, data.endpoint, data.keys.p256dh, data.keys.auth)
    return StaffPushSubscription(staff_id=staff_id, **dict(row))


@delete("/v1/staff/{staff_id:str}/push-subscription")
async def delete_staff_push_subscription(staff_id: FromPath[str], conn: Conn, principal: Caller) -> None:
    await _staff_or_404(conn, staff_id, principal)
    await repo.delete_staff_subscription(conn, staff_id)


async def _reader_locale(conn: asyncpg.Connection, principal: Principal) -> str:
    """Alerts are written in the reading staff member's language (the operator reads English)."""
    if principal.role == "staff":
        staff = await repo.get_staff(conn, principal.subject)
        if staff is not None:
            return staff["locale"]
    return FALLBACK_LOCALE


@get("/v1/stores/{store_id:str}/alerts")
async def list_alerts(
    store_id: FromPath[str],
    conn: Conn,
    principal: Caller,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
) -> AlertList:
    """The store's pickup alerts, newest first."""
    check_id(store_id, "store_id")
    principal.require_store(store_id)
    locale = await _reader_locale(conn, principal)
    rows = await repo.alerts_of_store(conn, store_id, limit)
    return AlertList(store_id=store_id, alerts=[answer(streams.row_of(r), locale) for r in rows])


@post("/v1/alerts/{alert_id:int}/ack", status_code=200)
async def ack_alert(
    alert_id: Annotated[int, PathParameter(ge=1, le=2**63 - 1)], conn: Conn, principal: Caller
) -> Alert:
    """ "On my way out with the order": who and when, shown on every staff screen of the store. The
    first answer stands; acking again returns it. Another store's alert is not found."""
    row = await repo.get_alert(conn, alert_id)
    if row is None:
        raise NotFound(f"unknown alert {alert_id}", field="alert_id")
    try:
        principal.require_store(row["store_id"])
    except Forbidden as exc:
        raise NotFound(f"unknown alert {alert_id}", field="alert_id") from exc
    staff = await repo.get_staff(conn, principal.subject) if principal.role == "staff" else None
    acked = await repo.ack_alert(conn, alert_id, principal.subject, staff["name"] if staff else None)
    if acked is not None:
        await repo.announce(conn, [streams.payload_of(acked)])
        row = acked
    else:
        row = await repo.get_alert(conn, alert_id)
        if row["acked_at"] is None:
            raise Conflict(f"alert {alert_id} is closed: the trip is over ({row['outcome']})", field="alert_id")
    return answer(streams.row_of(row), staff["locale"] if staff else FALLBACK_LOCALE)


@post("/v1/stores/{store_id:str}/alerts/stream-ticket", status_code=201)
async def stream_ticket(store_id: FromPath[str], principal: Caller, ctx: FromContext[NotifyContext]) -> StreamTicket:
    """A short-lived ticket for the store's alert stream, for a browser's EventSource (which cannot
    send an Authorization header)."""
    check_id(store_id, "store_id")
    principal.require_store(store_id)
    ticket, expires = streams.issue_ticket(ctx.signer, principal.subject, store_id, datetime.now(UTC))
    return StreamTicket(ticket=ticket, expires_at=expires, url=f"/v1/stores/{store_id}/alerts/stream?ticket={ticket}")


def _position(value: str | None) -> int | None:
    """Last-Event-ID as we gave it (a position); anything else counts as none."""
    return int(value) if value is not None and value.isascii() and value.isdigit() and len(value) <= 18 else None


# Left out of the OpenAPI document: an endless text/event-stream answer that generic clients and
# fuzzers built from the document would wait on forever. API.md and the README describe it.
@get("/v1/stores/{store_id:str}/alerts/stream", exclude_from_auth=True, include_in_schema=False)
async def alert_stream(
    store_id: FromPath[str],
    request: Request,
    ctx: FromContext[NotifyContext],
    ticket: FromQuery[str | None] = None,
    last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
    after: Annotated[str | None, QueryParameter(name="last_event_id")] = None,
) -> ServerSentEvent:
    """Server-Sent Events: the store's alerts as they come (see streams.py). Authenticated by a bearer
    token, or by `?ticket=` from POST .../stream-ticket. `Last-Event-ID` (the header a reconnecting
    EventSource sends, or `?last_event_id=`) replays what was missed."""
    check_id(store_id, "store_id")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        principal = ctx.signer.verify(token.strip())
    elif ticket:
        principal = streams.ticket_caller(ctx.signer, ticket)
    else:
        raise Unauthorized("missing bearer token or stream ticket")
    principal.require_store(store_id)
    async with ctx.db.transaction() as conn:
        locale = await _reader_locale(conn, principal)
    position = _position(last_event_id)
    if position is None:
        position = _position(after)
    events = streams.alert_events(ctx.db, ctx.alert_hub, store_id, position, locale)
    return ServerSentEvent(events, headers={"Cache-Control": "no-store"})


# --- the staff page ---

_PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_STATIC = {"staff.css": "text/css", "staff.js": "text/javascript"}


@cache
def _static(name: str) -> bytes:
    return resources.files("services.notify").joinpath("static", name).read_bytes()


@get("/staff", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def staff_page() -> Response[bytes]:
    """The staff page: served by notify itself, no CDN and no build step."""
    return Response(_static("staff.html"), media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


@get("/staff/{name:str}", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def staff_asset(name: FromPath[str]) -> Response[bytes]:
    if name not in _STATIC:
        raise NotFound(f"no such file {name!r}")
    return Response(_static(name), media_type=f"{_STATIC[name]}; charset=utf-8", headers=_PAGE_HEADERS)


@get("/staff-sw.js", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def staff_service_worker() -> Response[bytes]:
    """The staff page's service worker (it shows the alerts pushed while the page is closed). Served
    from the root so that its scope may cover /staff."""
    return Response(_static("staff-sw.js"), media_type="text/javascript; charset=utf-8", headers=_PAGE_HEADERS)


ROUTES = [
    register_device,
    put_consents,
    get_consents,
    get_messages,
    put_campaign,
    put_push_subscription,
    delete_push_subscription,
    get_vapid_public_key,
    create_staff,
    get_staff,
    put_staff_push_subscription,
    delete_staff_push_subscription,
    list_alerts,
    ack_alert,
    stream_ticket,
    alert_stream,
    staff_page,
    staff_asset,
    staff_service_worker,
]
