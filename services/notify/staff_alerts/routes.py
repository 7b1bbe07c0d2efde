"""Staff, their push subscriptions, their pickup alerts and the staff page."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, delete, get, post, put
from litestar.background_tasks import BackgroundTask
from litestar.params import FromQuery, HeaderParameter, JSONBody, Parameter, QueryParameter
from litestar.response import ServerSentEvent

from services.notify.context import NotifyContext
from services.notify.outbox import service as outbox
from services.notify.outbox.messages import Addressee
from services.notify.outbox.schemas import PushSubscriptionPut, PushToken, PushTokenPut
from services.notify.staff_alerts import service
from services.notify.staff_alerts.schemas import (
    Alert,
    AlertList,
    Staff,
    StaffCreate,
    StaffCreated,
    StaffList,
    StaffPushSubscription,
    StaffToken,
    StreamTicket,
)
from shared.auth import Caller, refuse_revoked
from shared.context import FromContext
from shared.errors import Unauthorized, errors
from shared.pages import page_file, page_routes
from shared.wire import NumericId, PathId, QueryId


@post("/v1/stores/{store_id:str}/staff", status_code=201, responses=errors(502))
async def create_staff(
    store_id: PathId, data: JSONBody[StaffCreate], principal: Caller, ctx: FromContext[NotifyContext]
) -> StaffCreated:
    """A staff member of one store, and the token they sign in with: it acts on that store only. By the
    admin or a manager of the store."""
    principal.require_store_manager(store_id)
    return await service.create_staff(ctx, store_id, data)


@get("/v1/stores/{store_id:str}/staff")
async def list_staff(
    store_id: PathId,
    principal: Caller,
    ctx: FromContext[NotifyContext],
    after: QueryId = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 200,
) -> StaffList:
    """The store's staff by id, a page at a time (`after` is the `next_after` of the page before), for
    the admin or a manager of the store."""
    principal.require_store_manager(store_id)
    return await service.staff_of_store(ctx, store_id, after, limit)


@get("/v1/staff/{staff_id:str}")
async def get_staff(staff_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> Staff:
    """Who a staff token belongs to (the staff page shows it after sign-in)."""
    await service.require_staff_self(ctx, principal, staff_id)
    return await service.staff_of(ctx, staff_id)


@post("/v1/staff/{staff_id:str}/token", status_code=201)
async def renew_token(staff_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> StaffToken:
    """A fresh token for the next shift, for the staff member (while their token is still valid), the
    operator or a manager of their store."""
    return await service.renew_token(ctx, principal, staff_id)


@delete("/v1/staff/{staff_id:str}", status_code=204)
async def remove_staff(staff_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> None:
    """The staff member leaves (by the admin or a manager of their store): within seconds every service
    refuses their tokens, their open streams end and their push subscription is gone."""
    await service.require_manager_of_staff(ctx, principal, staff_id)
    await service.remove_staff(ctx, staff_id)


@get("/v1/stores/{store_id:str}/alerts")
async def list_alerts(
    store_id: PathId,
    principal: Caller,
    ctx: FromContext[NotifyContext],
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
) -> AlertList:
    """The store's pickup alerts, newest first."""
    principal.require_store(store_id)
    return await service.alerts_of_store(ctx, principal, store_id, limit)


@post("/v1/alerts/{alert_id:int}/ack", status_code=200, responses=errors(409))
async def ack_alert(alert_id: NumericId, principal: Caller, ctx: FromContext[NotifyContext]) -> Alert:
    """ "On my way out with the order": who and when, shown on every staff screen of the store. The
    first answer stands; acking again returns it. Another store's alert is not found."""
    return await service.ack(ctx, principal, alert_id)


@post("/v1/stores/{store_id:str}/alerts/stream-ticket", status_code=201, sync_to_thread=False)
def stream_ticket(store_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> StreamTicket:
    """A short-lived ticket for the store's alert stream, for a browser's EventSource (which cannot
    send an Authorization header)."""
    principal.require_store(store_id)
    return service.stream_ticket(ctx, principal, store_id)


def _position(value: str | None) -> int | None:
    """Last-Event-ID as we gave it (a position); anything else counts as none."""
    return int(value) if value is not None and value.isascii() and value.isdigit() and len(value) <= 18 else None


# Left out of the OpenAPI document: an endless text/event-stream answer that generic clients and
# fuzzers built from the document would wait on forever. docs/api-guide.md describes it.
@get("/v1/stores/{store_id:str}/alerts/stream", exclude_from_auth=True, include_in_schema=False)
async def alert_stream(
    store_id: PathId,
    request: Request[Any, Any, Any],
    ctx: FromContext[NotifyContext],
    ticket: FromQuery[str | None] = None,
    last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
    after: Annotated[str | None, QueryParameter(name="last_event_id")] = None,
) -> ServerSentEvent:
    """Server-Sent Events: the store's alerts as they come (see streams.py). Authenticated by a bearer
    token, or by `?ticket=` from POST .../stream-ticket. `Last-Event-ID` (the header a reconnecting
    EventSource sends, or `?last_event_id=`) replays what was missed."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        principal = ctx.signer.verify(token.strip())
        refuse_revoked(principal, ctx.revocations.is_revoked)
    elif ticket:
        principal = await service.use_ticket(ctx, ticket)
    else:
        raise Unauthorized("missing bearer token or stream ticket")
    principal.require_store(store_id)
    position = _position(last_event_id)
    if position is None:
        position = _position(after)
    stream = await service.alert_stream(ctx, principal, store_id, position)
    return ServerSentEvent(
        stream.messages, headers={"Cache-Control": "no-store"}, background=BackgroundTask(stream.close)
    )


# --- the staff page ---


@get("/staff-sw.js", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def staff_service_worker() -> Response[bytes]:
    """The staff page's service worker (it shows the alerts pushed while the page is closed). Served
    from the root so that its scope may cover /staff."""
    return page_file(__package__, "staff-sw.js", "text/javascript")


@put("/v1/staff/{staff_id:str}/push-subscription")
async def put_staff_push_subscription(
    staff_id: PathId, data: JSONBody[PushSubscriptionPut], principal: Caller, ctx: FromContext[NotifyContext]
) -> StaffPushSubscription:
    """Where to push this staff member's alerts (one device: a new subscription replaces the last);
    checked like a shopper's."""
    await service.require_staff_self(ctx, principal, staff_id)
    row = await outbox.subscribe(ctx, Addressee("staff", staff_id), data)
    return StaffPushSubscription(
        staff_id=staff_id, endpoint=row["address"], created_at=row["created_at"], updated_at=row["updated_at"]
    )


@delete("/v1/staff/{staff_id:str}/push-subscription")
async def delete_staff_push_subscription(staff_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> None:
    await service.require_staff_self(ctx, principal, staff_id)
    await outbox.unsubscribe(ctx, Addressee("staff", staff_id))


@put("/v1/staff/{staff_id:str}/push-token", responses=errors(422))
async def put_staff_push_token(
    staff_id: PathId, data: JSONBody[PushTokenPut], principal: Caller, ctx: FromContext[NotifyContext]
) -> PushToken:
    """This staff member's app token for APNs or FCM (one device: it replaces the last push target)."""
    await service.require_staff_self(ctx, principal, staff_id)
    return outbox.token_answer(await outbox.set_push_token(ctx, Addressee("staff", staff_id), data))


@delete("/v1/staff/{staff_id:str}/push-token")
async def delete_staff_push_token(staff_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> None:
    await service.require_staff_self(ctx, principal, staff_id)
    await outbox.remove_push_token(ctx, Addressee("staff", staff_id))


ROUTES = [
    create_staff,
    list_staff,
    get_staff,
    renew_token,
    remove_staff,
    put_staff_push_subscription,
    delete_staff_push_subscription,
    put_staff_push_token,
    delete_staff_push_token,
    list_alerts,
    ack_alert,
    stream_ticket,
    alert_stream,
    *page_routes(__package__, "/staff", "staff.html", {"staff.css": "text/css", "staff.js": "text/javascript"}),
    staff_service_worker,
]
