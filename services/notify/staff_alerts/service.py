"""Staff members and their stores' pickup alerts: creating staff, reading and acknowledging alerts,
opening a live stream."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
from litestar.response import ServerSentEventMessage

from services.notify.context import NotifyContext
from services.notify.offers.decide import FALLBACK_LOCALE
from services.notify.staff_alerts import repository as repo
from services.notify.staff_alerts import streams
from services.notify.staff_alerts.alerts import answer
from services.notify.staff_alerts.schemas import Alert, AlertList, Staff, StaffCreate, StaffCreated, StreamTicket
from shared import peers
from shared.auth import Principal
from shared.errors import BadGateway, Conflict, Forbidden, NotFound
from shared.wire import check_id


def require_staff_self(principal: Principal, staff_id: str) -> None:
    """A staff member acts on their own profile only (the operator and services on any)."""
    check_id(staff_id, "staff_id")
    if not principal.is_trusted and (principal.role != "staff" or principal.subject != staff_id):
        raise Forbidden("a staff member may act on their own profile only")


async def create_staff(ctx: NotifyContext, store_id: str, data: StaffCreate) -> StaffCreated:
    """A staff member of one store, and the token they sign in with: it acts on that store only.
    geo confirms the store first, before any transaction opens."""
    try:
        status, _ = await peers.get_json(ctx, "geo", f"/v1/stores/{store_id}")
    except peers.PeerError as exc:
        raise BadGateway("geo cannot confirm the store right now; retry shortly") from exc
    if status == 404:
        raise NotFound(f"unknown store {store_id!r}", field="store_id")
    name = " ".join(data.name.split())
    async with ctx.db.transaction() as conn:
        row = await repo.create_staff(conn, f"stf_{secrets.token_urlsafe(12)}", store_id, name, data.locale)
    return StaffCreated(
        staff_id=row["staff_id"],
        token=ctx.signer.issue("staff", row["staff_id"], store_id=store_id),
        store_id=store_id,
        name=row["name"],
        locale=row["locale"],
    )


async def staff_of(ctx: NotifyContext, staff_id: str) -> Staff:
    async with ctx.db.transaction(readonly=True) as conn:
        staff = await repo.get_staff(conn, staff_id)
    if staff is None:
        raise NotFound(f"unknown staff member {staff_id!r}", field="staff_id")
    return Staff(**dict(staff))


async def _reader_locale(conn: asyncpg.Connection, principal: Principal) -> str:
    """Alerts are written in the reading staff member's language (the operator reads English)."""
    if principal.role == "staff":
        staff = await repo.get_staff(conn, principal.subject)
        if staff is not None:
            return staff["locale"]
    return FALLBACK_LOCALE


async def alerts_of_store(ctx: NotifyContext, principal: Principal, store_id: str, limit: int) -> AlertList:
    """The store's pickup alerts, newest first, in the reader's language."""
    async with ctx.db.transaction(readonly=True) as conn:
        locale = await _reader_locale(conn, principal)
        rows = await repo.alerts_of_store(conn, store_id, limit)
    return AlertList(store_id=store_id, alerts=[answer(streams.row_of(r), locale) for r in rows])


async def ack(ctx: NotifyContext, principal: Principal, alert_id: int) -> Alert:
    """ "On my way out with the order": who and when, shown on every staff screen of the store. The
    first answer stands; acking again returns it. Another store's alert is not found."""
    async with ctx.db.transaction() as conn:
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


def stream_ticket(ctx: NotifyContext, principal: Principal, store_id: str) -> StreamTicket:
    ticket, expires = streams.issue_ticket(ctx.signer, principal.subject, store_id, datetime.now(UTC))
    return StreamTicket(ticket=ticket, expires_at=expires, url=f"/v1/stores/{store_id}/alerts/stream?ticket={ticket}")


async def alert_stream(
    ctx: NotifyContext, principal: Principal, store_id: str, last_event_id: int | None
) -> AsyncIterator[ServerSentEventMessage]:
    """The store's alerts as they come, in the reader's language (see streams.py)."""
    async with ctx.db.transaction(readonly=True) as conn:
        locale = await _reader_locale(conn, principal)
    return streams.alert_events(ctx.db, ctx.alert_hub, store_id, last_event_id, locale)
