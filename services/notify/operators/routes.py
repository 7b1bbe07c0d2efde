"""Operators (the admin's calls) and the console's single sign-on (the browser's)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post, put
from litestar.datastructures import Cookie
from litestar.params import JSONBody
from litestar.response import Redirect

from services.notify.context import NotifyContext
from services.notify.operators import service
from services.notify.operators.round_trip import (
    ROUND_TRIP_COOKIE,
    ROUND_TRIP_S,
    SESSION_COOKIE,
    RoundTripRefused,
    on_loopback,
    open_round_trip,
    same_origin,
    seal_round_trip,
)
from services.notify.operators.schemas import ConsoleSession, Operator, OperatorList, OperatorPut, PathEmail
from services.notify.operators.sign_on import ProviderUnavailable, SignInRefused, SignOn
from shared.auth import Caller
from shared.context import FromContext
from shared.errors import BadGateway, BadRequest, Forbidden, NotFound, errors


@put("/v1/operators/{email:str}", responses=errors(422, 502))
async def put_operator(
    email: PathEmail, data: JSONBody[OperatorPut], principal: Caller, ctx: FromContext[NotifyContext]
) -> Operator:
    """An operator, by email (compared without regard to case), with their role; a store manager's
    stores, each one known to geo."""
    principal.require_admin()
    return await service.put_operator(ctx, email, data)


@get("/v1/operators")
async def list_operators(principal: Caller, ctx: FromContext[NotifyContext]) -> OperatorList:
    principal.require_admin()
    return await service.list_operators(ctx)


@delete("/v1/operators/{email:str}", status_code=204)
async def remove_operator(email: PathEmail, principal: Caller, ctx: FromContext[NotifyContext]) -> None:
    """The operator leaves: within seconds every service refuses their tokens, and their console
    sessions are gone."""
    principal.require_admin()
    await service.remove_operator(ctx, email)


# --- single sign-on: browser routes, answered with redirects and cookies, outside the bearer API ---

BROWSER: dict[str, Any] = {"exclude_from_auth": True, "include_in_schema": False}


def _sign_on(ctx: NotifyContext) -> SignOn:
    sign_on = ctx.part(SignOn)
    if not sign_on.enabled:
        raise NotFound("single sign-on is not configured: the console signs in with the admin token")
    return sign_on


def _cookie(sign_on: SignOn, key: str, value: str, path: str, max_age: int) -> Cookie:
    """HttpOnly (no script reads it), SameSite=Lax (sent on the provider's redirect back, a top-level
    GET, and on no cross-site POST), Secure unless notify is reached on this machine over plain http."""
    return Cookie(
        key=key,
        value=value,
        path=path,
        max_age=max_age,
        httponly=True,
        secure=not on_loopback(sign_on.public_url),
        samesite="lax",
    )


@get("/console/login", **BROWSER)
async def console_login(ctx: FromContext[NotifyContext]) -> Redirect:
    """To the provider's sign-in, with the round trip's state, PKCE verifier and nonce kept sealed in a
    cookie only the callback is sent."""
    sign_on = _sign_on(ctx)
    try:
        url, trip = await sign_on.begin()
    except ProviderUnavailable as exc:
        raise BadGateway(str(exc)) from exc
    cookie = _cookie(
        sign_on, ROUND_TRIP_COOKIE, seal_round_trip(ctx.settings.token_key, trip), "/console/callback", ROUND_TRIP_S
    )
    return Redirect(url, status_code=303, cookies=[cookie])


@get("/console/callback", **BROWSER)
async def console_callback(request: Request[Any, Any, Any], ctx: FromContext[NotifyContext]) -> Redirect:
    """Back from the provider: the state must be this browser's sign-in, the code is traded and the ID
    token checked; its verified email must name an operator. Then the console's session cookie."""
    sign_on = _sign_on(ctx)
    cleared = _cookie(sign_on, ROUND_TRIP_COOKIE, "", "/console/callback", 0)
    params = request.query_params
    try:
        trip = open_round_trip(ctx.settings.token_key, request.cookies.get(ROUND_TRIP_COOKIE), params.get("state"))
    except RoundTripRefused as exc:
        raise BadRequest(str(exc), field="state") from exc
    if params.get("error") or not params.get("code"):
        raise Forbidden(f"the provider did not sign you in: {params.get('error', 'no code')}")
    try:
        email = await sign_on.verified_email(params["code"], trip)
    except SignInRefused as exc:
        raise Forbidden(str(exc)) from exc
    except ProviderUnavailable as exc:
        raise BadGateway(str(exc)) from exc
    opened = await service.open_session(ctx, email)
    if opened is None:
        raise Forbidden(f"{email} is not an operator of accueil: ask an admin to add you")
    session_id, _ = opened
    max_age = ctx.config.console_session_hours * 3600
    session = _cookie(sign_on, SESSION_COOKIE, session_id, "/console", max_age)
    return Redirect("/console", status_code=303, cookies=[session, cleared])


@get("/console/session", **BROWSER)
async def console_session(
    request: Request[Any, Any, Any], ctx: FromContext[NotifyContext]
) -> Response[ConsoleSession | None]:
    """Who is signed in, with a short-lived bearer token for the console's script (401: not signed in).
    Without single sign-on, 204: no session here, the console takes the admin token (an answer, not an
    error: the page asks on every load)."""
    sign_on = ctx.part(SignOn)
    if not sign_on.enabled:
        return Response(None, status_code=204)
    _require_same_origin(sign_on, request)  # it hands out a token: only to the console's own page
    return Response(await service.session_token(ctx, request.cookies.get(SESSION_COOKIE)))


@post("/console/logout", status_code=204, **BROWSER)
async def console_logout(request: Request[Any, Any, Any], ctx: FromContext[NotifyContext]) -> Response[None]:
    """Ends this session and the tokens it handed out (the operator's other sessions stay)."""
    sign_on = _sign_on(ctx)
    _require_same_origin(sign_on, request)
    await service.close_session(ctx, request.cookies.get(SESSION_COOKIE))
    return Response(None, status_code=204, cookies=[_cookie(sign_on, SESSION_COOKIE, "", "/console", 0)])


def _require_same_origin(sign_on: SignOn, request: Request[Any, Any, Any]) -> None:
    """CSRF: the session is a cookie, which a browser attaches to whatever page sends the request; a
    request another origin's page makes is refused here (see round_trip.same_origin for why the
    headers suffice)."""
    if not same_origin(sign_on.public_url, request.headers.get("origin"), request.headers.get("sec-fetch-site")):
        raise Forbidden("the console's session is used from the console's own page only")


ROUTES = [
    put_operator,
    list_operators,
    remove_operator,
    console_login,
    console_callback,
    console_session,
    console_logout,
]
