"""The message log, shoppers' push subscriptions, the VAPID public key."""

from __future__ import annotations

from typing import Annotated

from litestar import delete, get, post, put
from litestar.params import JSONBody, Parameter

from services.notify.context import NotifyContext
from services.notify.outbox import service
from services.notify.outbox.messages import Addressee
from services.notify.outbox.schemas import (
    MessageEvent,
    MessageEventPost,
    MessageList,
    PushSubscription,
    PushSubscriptionPut,
    PushToken,
    PushTokenPut,
    VapidPublicKey,
)
from services.notify.outbox.service import token_answer
from services.notify.push.vapid import VapidKeys
from shared.auth import Caller
from shared.context import FromContext
from shared.errors import Forbidden, NotFound, errors
from shared.wire import PathId

# Not found unless it is one (checked by the handler): a message id is a bigint.
MessageId = Annotated[str, Parameter(schema_extra={"pattern": r"^[0-9]{1,18}$"})]


@get("/v1/devices/{device_id:str}/messages")
async def get_messages(
    device_id: PathId,
    principal: Caller,
    ctx: FromContext[NotifyContext],
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 200,
) -> MessageList:
    """Every decision about this device, newest first: sent, failed or suppressed, with the reason."""
    principal.require_device(device_id)
    return await service.messages_of(ctx, device_id, limit)


@post("/v1/messages/{message_id:str}/events", status_code=200, responses=errors(409))
async def post_message_event(
    message_id: MessageId, data: JSONBody[MessageEventPost], principal: Caller, ctx: FromContext[NotifyContext]
) -> MessageEvent:
    """The shopper's service worker reports a message sent to this device shown, clicked or dismissed."""
    if principal.role != "device":
        raise Forbidden("this call needs the token of the device the message was sent to")
    if not message_id.isascii() or not message_id.isdigit() or len(message_id) > 18:
        raise NotFound(f"unknown message {message_id!r}", field="message_id")
    return await service.record_engagement(ctx, principal.subject, int(message_id), data)


@put("/v1/devices/{device_id:str}/push-subscription")
async def put_push_subscription(
    device_id: PathId, data: JSONBody[PushSubscriptionPut], principal: Caller, ctx: FromContext[NotifyContext]
) -> PushSubscription:
    """Where to push this device's messages (one subscription per device: a new one replaces it).
    Only a browser push service may be named: a subscription must never make us call into our network."""
    principal.require_device(device_id)
    row = await service.subscribe(ctx, Addressee("device", device_id), data)
    return PushSubscription(
        device_id=device_id, endpoint=row["address"], created_at=row["created_at"], updated_at=row["updated_at"]
    )


@delete("/v1/devices/{device_id:str}/push-subscription")
async def delete_push_subscription(device_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> None:
    """The browser unsubscribed: pushes stop; messages decided from now on are `no_subscription`."""
    principal.require_device(device_id)
    await service.unsubscribe(ctx, Addressee("device", device_id))


@put("/v1/devices/{device_id:str}/push-token", responses=errors(422))
async def put_push_token(
    device_id: PathId, data: JSONBody[PushTokenPut], principal: Caller, ctx: FromContext[NotifyContext]
) -> PushToken:
    """This device's native app token for APNs or FCM: it replaces the device's push target (a Web Push
    subscription or an older token). A provider this server is not configured for: 422 naming it."""
    principal.require_device(device_id)
    return token_answer(await service.set_push_token(ctx, Addressee("device", device_id), data))


@delete("/v1/devices/{device_id:str}/push-token")
async def delete_push_token(device_id: PathId, principal: Caller, ctx: FromContext[NotifyContext]) -> None:
    """The app turned notifications off: pushes stop; messages decided from now on are `no_subscription`."""
    principal.require_device(device_id)
    await service.remove_push_token(ctx, Addressee("device", device_id))


@get("/v1/vapid-public-key", exclude_from_auth=True, sync_to_thread=False)
def get_vapid_public_key(ctx: FromContext[NotifyContext]) -> VapidPublicKey:
    return VapidPublicKey(public_key=ctx.part(VapidKeys).public_key)


ROUTES = [
    get_messages,
    post_message_event,
    put_push_subscription,
    delete_push_subscription,
    put_push_token,
    delete_push_token,
    get_vapid_public_key,
]
