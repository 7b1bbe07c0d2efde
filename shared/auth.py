"""Bearer tokens shared by the three services.

Device, staff and service tokens are HS256 JWTs signed with the common token key, so any service can
check them without a database round trip. The admin token is the operator's configured secret.
Every route needs a token unless its handler is marked `exclude_from_auth=True`.
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Literal, cast

import jwt
import msgspec
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from shared import keys
from shared.errors import Forbidden, Unauthorized

Role = Literal["admin", "device", "staff", "service"]
_ALGORITHM = "HS256"
_ISSUER = "accueil"


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the role, and the device, staff member or store it is bound to."""

    role: Role
    subject: str
    store_id: str | None = None
    expires: float = math.inf
    """When the token it came from expires (epoch seconds): a stream it opens ends then."""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_trusted(self) -> bool:
        """The operator, or another accueil service acting on the system's behalf."""
        return self.role in ("admin", "service")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("this call needs the admin token")

    def require_trusted(self) -> None:
        if not self.is_trusted:
            raise Forbidden("this call is for the operator or another accueil service")

    def require_device(self, device_id: str) -> None:
        """Only the device itself (or the operator / a service) may act on a device."""
        if self.is_trusted:
            return
        if self.role != "device":
            raise Forbidden("this call needs the device's own token")
        if self.subject != device_id:
            raise Forbidden("a device may act on its own data only")

    def require_store(self, store_id: str) -> None:
        """Only staff of that store (or the operator / a service)."""
        if self.is_trusted:
            return
        if self.role != "staff":
            raise Forbidden("this call needs a staff token of the store")
        if self.store_id != store_id:
            raise Forbidden("staff may act on their own store only")

    def can_see(self, device_id: str | None, store_id: str | None) -> bool:
        """For things both a shopper and the store see (an order, a trip). The caller answers anyone
        else with the 404 of a thing that does not exist: no leak."""
        if self.is_trusted:
            return True
        if self.role == "device":
            return self.subject == device_id
        return self.role == "staff" and self.store_id == store_id


# A handler parameter `principal: Caller` receives who is calling (set by BearerAuth).
Caller = NamedDependency[Principal]

CALLER: ContextVar[Principal | None] = ContextVar("accueil_caller", default=None)
"""Who is calling, within the request's own task (set by BearerAuth; None on public routes). What the
`principal` dependency reads: a provider taking no parameter costs Litestar no conversion of its
arguments on every request."""


class TokenSigner:
    _CACHE_SIZE = 10_000

    def __init__(self, key: str, admin_token: str, version: int = 1) -> None:
        self._master = key
        self._version = version
        self._key = keys.derive(key, keys.TOKENS, version)
        self._admin_token = admin_token.encode()
        # A phone sends the same token with every ping: remember tokens already verified
        # (the HMAC check and claim parsing cost more than the rest of a small request's auth).
        self._verified: dict[str, tuple[Principal, float]] = {}

    def issue(
        self,
        role: Role,
        subject: str,
        *,
        store_id: str | None = None,
        ttl_s: int | None = None,
        audience: str | None = None,
        jti: str | None = None,
        extra: dict[str, object] | None = None,
        now: float | None = None,
    ) -> str:
        """A signed token. With an `audience`, it opens only what asks for that audience (a stream
        ticket), and every bearer-token check refuses it. A `jti` names it, for a single-use token;
        `extra` claims are for whoever decodes it with `claims`."""
        now = int(time.time() if now is None else now)
        claims: dict[str, object] = {"iss": _ISSUER, "sub": subject, "role": role, "iat": now}
        if store_id is not None:
            claims["store"] = store_id
        if ttl_s is not None:
            claims["exp"] = now + ttl_s
        if audience is not None:
            claims["aud"] = audience
        if jti is not None:
            claims["jti"] = jti
        claims.update(extra or {})
        return jwt.encode(claims, self._key_for(audience), algorithm=_ALGORITHM)

    def _key_for(self, audience: str | None) -> bytes:
        """Bearer tokens have their key; tokens for an audience (stream tickets) a key of their own."""
        if audience is None:
            return self._key
        return keys.derive(self._master, f"{keys.TOKENS} for {audience}", self._version)

    def verify(self, token: str) -> Principal:
        """The caller behind a bearer token (the admin token, or a signed one without audience)."""
        if hmac.compare_digest(token.encode(), self._admin_token):
            return Principal(role="admin", subject="admin")
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        principal, expires = self.decode(token)
        if len(self._verified) >= self._CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def decode(self, token: str, audience: str | None = None, what: str = "token") -> tuple[Principal, float]:
        """The one decoder of signed tokens: who it names and when it expires (epoch seconds, inf if never).
        A token made for an audience is valid only where that audience is asked for, and vice versa."""
        principal, _ = self.claims(token, audience, what)
        return principal, principal.expires

    def claims(self, token: str, audience: str | None = None, what: str = "token") -> tuple[Principal, dict[str, Any]]:
        """`decode`, with every claim of the token."""
        required = ["sub", "role", "iat"] + (["exp"] if audience is not None else [])
        try:
            claims = jwt.decode(
                token,
                self._key_for(audience),
                algorithms=[_ALGORITHM],
                issuer=_ISSUER,
                audience=audience,
                options={"require": required},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized(f"{what} expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid {what}") from exc
        role = claims.get("role")
        if role not in ("device", "staff", "service"):
            raise Unauthorized(f"invalid {what}")
        if role == "staff" and not claims.get("store"):
            raise Unauthorized(f"invalid {what}")
        expires = float(claims.get("exp", math.inf))
        principal = Principal(role=role, subject=str(claims["sub"]), store_id=claims.get("store"), expires=expires)
        return principal, claims


def bearer_token(scope: Scope) -> str:
    """The token of the request's `Authorization: Bearer` header (read from the raw headers: this runs on
    every request)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            break
    raise Unauthorized("missing bearer token")


def refuse_revoked(principal: Principal, is_revoked: Callable[[str], bool]) -> None:
    """A removed staff member's or an erased device's tokens are refused (the admin token is the
    operator's secret, changed by configuration, never revoked)."""
    if not principal.is_admin and is_revoked(principal.subject):
        what = "this device was erased" if principal.role == "device" else f"this {principal.role} was removed"
        raise Unauthorized(f"token revoked: {what}")


class BearerAuth(ASGIMiddleware):
    """Puts the caller's Principal in the scope (`request.user`), or refuses the request with a 401."""

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = "exclude_from_auth"

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        return scope["path"] == "/schema" or scope["path"].startswith("/schema/")  # the OpenAPI document is public

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        state = scope["litestar_app"].state
        principal = state.signer.verify(bearer_token(scope))
        refuse_revoked(principal, state.revocations.is_revoked)
        if principal.role == "service" and cast("HTTPScope", scope)["method"] not in READS:  # `scopes`: HTTP only
            # What a service asks another for is always a read (an order to check, a device's data for
            # an export): a leaked service token changes nothing anywhere.
            raise Forbidden("a service token may only read")
        scope["user"] = principal
        caller = CALLER.set(principal)
        try:
            await next_app(scope, receive, send)
        finally:
            CALLER.reset(caller)  # a server runs each request in a task of its own; a test client may not


READS = frozenset({"GET", "HEAD"})


class ServiceTokens:
    """This service's own token for calling the others: short-lived, re-issued before it runs out."""

    def __init__(self, signer: TokenSigner, service: str, ttl_s: int) -> None:
        self._signer, self._service, self._ttl_s = signer, service, ttl_s
        self._token, self._renew_at = "", 0.0

    def current(self) -> str:
        now = time.time()
        if now >= self._renew_at:
            self._token = self._signer.issue("service", self._service, ttl_s=self._ttl_s)
            self._renew_at = now + self._ttl_s / 2
        return self._token
