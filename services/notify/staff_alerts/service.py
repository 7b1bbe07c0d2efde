"""Staff members and their stores' pickup alerts: creating staff, reading and acknowledging alerts,
opening a live stream."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import asyncpg

from services.notify.context import NotifyContext
from services.notify.outbox import repository as outbox_repo
from services.notify.outbox.messages import Addressee
from services.notify.policy.decide import FALLBACK_LOCALE
from services.notify.staff_alerts import repository as repo
from services.notify.staff_alerts import streams
from services.notify.staff_alerts.alerts import answer
from services.notify.staff_alerts.schemas import (
    Alert,
    AlertList,
    Staff,
    StaffCreate,
    StaffCreated,
    StaffList,
    StaffToken,
    StreamTicket,
)
from shared import audit, peers
from shared.auth import Principal, refuse_revoked
from shared.errors import BadGateway, Conflict, Forbidden, NotFound, Unauthorized
from shared.wire import check_id


async def require_staff_self(ctx: NotifyContext, principal: Principal, staff_id: str) -> None:
    """A staff member acts on their own profile only; the operator, services and the managers of the
    staff member's store on any of theirs."""
    check_id(staff_id, "staff_id")
    if principal.is_trusted or (principal.role == "staff" and principal.subject == staff_id):
        return
    if principal.role != "store_manager":
        raise Forbidden("a staff member may act on their own profile only")
    await require_manager_of_staff(ctx, principal, staff_id)


async def require_manager_of_staff(ctx: NotifyContext, principal: Principal, staff_id: str) -> None:
    """An admin, or a manager of the staff member's store (whose staff they may see, renew and remove).
    Any other role is refused before the staff member is looked up."""
    check_id(staff_id, "staff_id")
    if principal.is_admin:
        return
    principal.require_role("store_manager")
    principal.require_store_manager((await staff_of(ctx, staff_id)).store_id)


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
        token, expires_at = _shift_token(ctx, row["staff_id"], store_id)
        created = StaffCreated(
            staff_id=row["staff_id"],
            token=token,
            expires_at=expires_at,
            store_id=store_id,
            name=row["name"],
            locale=row["locale"],
        )
        await audit.record(conn, ctx.service, None, created)
    return created


def _shift_token(ctx: NotifyContext, staff_id: str, store_id: str) -> tuple[str, datetime]:
    """A staff token lasts a shift (ACCUEIL_STAFF_TOKEN_TTL_S): a lost tablet's token does not open the
    store's alerts for ever."""
    now = int(datetime.now(UTC).timestamp())
    ttl = ctx.config.staff_token_ttl_s
    token = ctx.signer.issue("staff", staff_id, store_id=store_id, ttl_s=ttl, now=now)
    return token, datetime.fromtimestamp(now, UTC) + timedelta(seconds=ttl)


async def renew_token(ctx: NotifyContext, principal: Principal, staff_id: str) -> StaffToken:
    """A fresh shift token, for the staff member (with a token still valid), the operator or a manager
    of their store. A removed staff member has none (their tokens are refused already; the operator's
    call finds no one)."""
    await require_staff_self(ctx, principal, staff_id)
    async with ctx.db.transaction(readonly=not audit.audited()) as conn:
        staff = await repo.get_staff(conn, staff_id)
        if staff is None:
            raise NotFound(f"unknown staff member {staff_id!r}", field="staff_id")
        token, expires_at = _shift_token(ctx, staff_id, staff["store_id"])
        renewed = StaffToken(staff_id=staff_id, token=token, expires_at=expires_at)
        await audit.record(conn, ctx.service, Staff(**dict(staff)), renewed)
    return renewed


async def remove_staff(ctx: NotifyContext, staff_id: str) -> None:
    """The staff member leaves: marked removed (past alerts keep their name, the employer's record),
    their push subscription deleted and their tokens revoked, in one transaction; every process of every
    service refuses the tokens once it commits (shared/revocation.py), and their open streams end."""
    check_id(staff_id, "staff_id")
    # Every shift token of theirs expires within a shift: the revocation can go then.
    mark = ctx.signer.subject_mark(staff_id)
    until = datetime.now(UTC) + timedelta(seconds=ctx.config.staff_token_ttl_s + 300)
    async with ctx.db.transaction() as conn:
        staff = await repo.get_staff(conn, staff_id)
        if staff is None or not await repo.remove_staff(conn, staff_id):
            raise NotFound(f"unknown staff member {staff_id!r}", field="staff_id")
        await audit.record(conn, ctx.service, Staff(**dict(staff)), None)
        await outbox_repo.delete_target(conn, Addressee("staff", staff_id))
        await ctx.revocations.revoke(conn, mark, until)
    ctx.revocations.add(mark, until)  # this process refuses the tokens at once


async def staff_of_store(ctx: NotifyContext, store_id: str, after: str | None, limit: int) -> StaffList:
    """A page of the store's staff by id; `next_after` names the next page's `after` when there may be
    more."""
    async with ctx.db.transaction(readonly=True) as conn:
        rows = await repo.staff_of_store(conn, store_id, after, limit)
    staff = [Staff(**dict(r)) for r in rows]
    return StaffList(store_id=store_id, staff=staff, next_after=staff[-1].staff_id if len(staff) == limit else None)


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
            return str(staff["locale"])
    return FALLBACK_LOCALE


async def alerts_of_store(ctx: NotifyContext, principal: Principal, store_id: str, limit: int) -> AlertList:
    """The store's pickup alerts, newest first, in the reader's language."""
    async with ctx.db.transaction(readonly=True) as conn:
        locale = await _reader_locale(conn, principal)
        rows = await repo.alerts_of_store(conn, store_id, limit)
    return AlertList(store_id=store_id, alerts=[answer(streams.row_of(r), locale) for r in rows])


async def ack(ctx: NotifyContext, principal: Principal, alert_id: int) -> Alert:
    """ "On my way out with the order": who and when, shown on every staff screen of the store. The
    first answer stands; acking again returns it. Another store's alert is not found; an operator whose
    role has no alerts (a marketer) is refused outright."""
    principal.limit_operators("store_manager")
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
            if row is None:  # deleted meanwhile (past the message retention)
                raise NotFound(f"unknown alert {alert_id}", field="alert_id")
            if row["acked_at"] is None:
                raise Conflict(f"alert {alert_id} is closed: the trip is over ({row['outcome']})", field="alert_id")
    return answer(streams.row_of(row), staff["locale"] if staff else FALLBACK_LOCALE)


def stream_ticket(ctx: NotifyContext, principal: Principal, store_id: str) -> StreamTicket:
    ticket, expires = streams.issue_ticket(ctx.signer, principal, store_id, datetime.now(UTC))
    return StreamTicket(ticket=ticket, expires_at=expires, url=f"/v1/stores/{store_id}/alerts/stream?ticket={ticket}")


async def use_ticket(ctx: NotifyContext, ticket: str) -> Principal:
    """A ticket opens one stream, on whichever replica it is shown first."""
    read = streams.read_ticket(ctx.signer, ticket)
    refuse_revoked(read.caller, ctx.revocations.is_revoked)
    async with ctx.db.transaction() as conn:
        if not await repo.use_ticket(conn, read.jti, read.expires_at):
            raise Unauthorized("stream ticket already used")
    return read.caller


async def alert_stream(
    ctx: NotifyContext, principal: Principal, store_id: str, last_event_id: int | None
) -> streams.AlertStream:
    """The store's alerts as they come, in the reader's language (see streams.py), for as long as the
    caller's token holds."""
    hub = ctx.part(streams.AlertHub)
    feed = hub.open(principal, store_id)
    try:
        # Revoked meanwhile (its ticket was still good): the hub's revoke may have run before the open.
        refuse_revoked(principal, ctx.revocations.is_revoked)
        async with ctx.db.transaction(readonly=True) as conn:
            locale = await _reader_locale(conn, principal)
    except BaseException:
        hub.release(feed)
        raise
    messages = streams.alert_events(ctx.db, hub, feed, last_event_id, locale)
    return streams.AlertStream(messages, hub, feed)
