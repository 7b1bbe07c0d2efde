"""Bearer tokens shared by the three services.

Tokens are JWTs signed with Ed25519 (EdDSA) by the service that issues them: notify signs device and
staff tokens (and its own service tokens); geo and inventory sign only their own service tokens. Each
service checks a token with the issuer's public key (ACCUEIL_TOKEN_ISSUERS), without a database round
trip, and refuses a role its issuer may not grant: a geo pod can sign a token naming itself, and
nothing else. The admin token is the operator's configured secret; a service holds only its SHA-256.
Every route needs a token unless its handler is marked `exclude_from_auth=True`; a service token opens
only the reads a route grants that service (`service_reads`). Each route checks the caller's role itself
(`require_role`, `require_store_manager`, `limit_operators`, ...): docs/api-guide.md, "Operator roles",
is the table of what each operator role may call.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Literal, cast

import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from litestar.di import NamedDependency
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

from shared import keys
from shared.errors import Forbidden, Unauthorized

Role = Literal["admin", "marketer", "store_manager", "device", "staff", "service"]
OperatorRole = Literal["admin", "marketer", "store_manager"]
OPERATOR_ROLES: tuple[OperatorRole, ...] = ("admin", "marketer", "store_manager")
"""An operator's token (notify signs it, short-lived, after single sign-on) names the operator by email
and carries one of these roles; `store_manager` also names its stores. The admin token is `admin` too."""
_ALGORITHM = "EdDSA"
_ISSUER_PREFIX = "accueil:"

MAY_ISSUE: Mapping[str, frozenset[str]] = {
    "notify": frozenset({"device", "staff", "service", *OPERATOR_ROLES}),
    "geo": frozenset({"service"}),
    "inventory": frozenset({"service"}),
}
"""What each issuer's signature is believed for. A service token must also name its issuer."""

SERVICE_READS = "service_reads"
"""A route's opt: the services whose tokens may call it (reads only). Any other route refuses them."""


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the role, and the device, staff member, operator or store it is bound to."""

    role: Role
    subject: str
    """A device or staff id, an operator's email, a service's name, or `admin` for the admin token."""
    store_id: str | None = None
    stores: tuple[str, ...] = ()
    """A store manager's stores."""
    expires: float = math.inf
    """When the token it came from expires (epoch seconds): a stream it opens ends then."""
    token_id: str | None = None
    """The token's `jti`: revoking it refuses this one token (a rotated device token)."""
    subject_mark: str | None = None
    """The token's `rev`: a keyed hash of its subject, the same in all the subject's tokens, so that
    revoking it refuses them all (an erased device, a removed staff member) without any service
    holding the key, nor the revocation list holding the id."""

    @property
    def revocation_ids(self) -> tuple[str, ...]:
        return tuple(i for i in (self.token_id, self.subject_mark) if i is not None)

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

    def require_role(self, *roles: OperatorRole) -> None:
        """An operator of one of these roles (an admin always)."""
        if not self.is_admin and self.role not in roles:
            raise Forbidden(f"this call needs the role {' or '.join(('admin', *roles))}")

    def require_trusted(self, *roles: OperatorRole) -> None:
        """The operator or another accueil service (only those the route names in `service_reads` get this
        far), or an operator of one of these roles."""
        if not self.is_trusted and self.role not in roles:
            raise Forbidden(f"this call is for {', '.join(('admin', *roles))} or another accueil service")

    def require_store_manager(self, store_id: str) -> None:
        """An admin, or a store manager of that store: managing the store's staff."""
        if self.is_admin:
            return
        if self.role != "store_manager":
            raise Forbidden("this call needs the role admin or store_manager")
        if store_id not in self.stores:
            raise Forbidden("a store manager may act on their own stores only")

    def limit_operators(self, *roles: OperatorRole, store_id: str | None = None) -> None:
        """For a call that devices, staff or services make too (the route checks those): an operator
        needs one of these roles (an admin any), and a store manager, where the call is about one store,
        that store. Tokens of other roles pass untouched."""
        if self.is_admin or self.role not in OPERATOR_ROLES:
            return
        self.require_role(*roles)
        if store_id is not None and self.role == "store_manager":
            self.require_store_manager(store_id)

    def require_device(self, device_id: str) -> None:
        """Only the device itself (or the operator / a service) may act on a device."""
        if self.is_trusted:
            return
        if self.role != "device":
            raise Forbidden("this call needs the device's own token")
        if self.subject != device_id:
            raise Forbidden("a device may act on its own data only")

    def require_store(self, store_id: str) -> None:
        """Only staff or a store manager of that store (or an admin / a service)."""
        if self.is_trusted:
            return
        if self.role == "store_manager":
            if store_id not in self.stores:
                raise Forbidden("a store manager may act on their own stores only")
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
        if self.role == "store_manager":
            return store_id in self.stores
        return self.role == "staff" and self.store_id == store_id


# A handler parameter `principal: Caller` receives who is calling (set by BearerAuth).
Caller = NamedDependency[Principal]

CALLER: ContextVar[Principal | None] = ContextVar("accueil_caller", default=None)
"""Who is calling, within the request's own task (set by BearerAuth; None on public routes). What the
`principal` dependency reads: a provider taking no parameter costs Litestar no conversion of its
arguments on every request."""

CALL: ContextVar[str | None] = ContextVar("accueil_call", default=None)
"""The request being served, as `METHOD /concrete/path` (set by BearerAuth with CALLER): the action an
audit entry names (shared.audit)."""


def kid_of(issuer: str, key: Ed25519PublicKey) -> str:
    """A token's `kid`: its issuer and which of the issuer's keys signed it (during a rotation an
    issuer has two; where all three share one key, the issuer still tells them apart)."""
    return f"{issuer}:{keys.key_id(key)}"


class Issuers:
    """The public keys tokens are checked with, by key id: each issuer's current key, and during a
    rotation its previous one too."""

    def __init__(self, keys_of: Mapping[str, Sequence[Ed25519PublicKey]]) -> None:
        self.by_kid: dict[str, tuple[str, Ed25519PublicKey]] = {}
        for issuer, public_keys in keys_of.items():
            if issuer not in MAY_ISSUE:
                raise ValueError(f"unknown issuer {issuer!r} (one of {', '.join(MAY_ISSUE)})")
            for key in public_keys:
                self.by_kid[kid_of(issuer, key)] = (issuer, key)

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Issuers:
        """ACCUEIL_TOKEN_ISSUERS: `issuer:public key` entries (`notify:3q2-…,geo:…,inventory:…`)."""
        keys_of: dict[str, list[Ed25519PublicKey]] = {}
        for entry in entries:
            issuer, sep, text = entry.partition(":")
            if not sep:
                raise ValueError(f"{entry!r} is not issuer:public-key")
            keys_of.setdefault(issuer.strip(), []).append(keys.public_of_text(text.strip()))
        return cls(keys_of)

    @classmethod
    def alike(cls, key: Ed25519PublicKey) -> Issuers:
        """Every issuer with the one key: a deployment that gives all three services the same token key
        (then any of them can sign anything: no least privilege)."""
        return cls({issuer: [key] for issuer in MAY_ISSUE})


class TokenSigner:
    CACHE_SIZE = 100_000
    """Tokens remembered as verified, about half a kilobyte each (50 MB when full). A fleet's phones
    each come back every 10 to 60 s in no particular order, and every geo process behind a load
    balancer sees all of them: a cache smaller than the fleet verifies most uploads' tokens again, the
    costliest step of a small upload (an Ed25519 check and PyJWT's parsing, some 100-200 us)."""

    def __init__(
        self,
        key: str,
        admin_token: str = "",
        version: int = 1,
        *,
        issuer: str = "notify",
        issuers: Issuers | None = None,
        admin_sha256: bytes | None = None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        if issuer not in MAY_ISSUE:
            raise ValueError(f"unknown issuer {issuer!r}")
        self._issuer = issuer
        self._private = keys.signing_key(key, version)
        self._kid = kid_of(issuer, self._private.public_key())
        self._issuers = issuers or Issuers.alike(self._private.public_key())
        self._marks = keys.derive(key, keys.REVOCATIONS)
        # Only the digest is held: a process's memory or environment gives no admin token away.
        self._admin_sha256 = admin_sha256 or (hashlib.sha256(admin_token.encode()).digest() if admin_token else b"")
        # A phone sends the same token with every ping: remember tokens already verified
        # (the signature check and claim parsing cost more than the rest of a small request's auth).
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._cache_size = cache_size

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private.public_key()

    def subject_mark(self, subject: str) -> str:
        """The `rev` claim of every device or staff token of `subject` (see Principal.subject_mark)."""
        return keys.b64url(hmac.digest(self._marks, subject.encode(), "sha256"))

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
        ticket), and every bearer-token check refuses it. Its `jti` names it (random unless given);
        `extra` claims are for whoever decodes it with `claims`."""
        if role not in MAY_ISSUE[self._issuer] or (role == "service" and subject != self._issuer):
            raise ValueError(f"{self._issuer} does not issue {role} tokens for {subject!r}")
        now = int(time.time() if now is None else now)
        claims: dict[str, object] = {
            "iss": _ISSUER_PREFIX + self._issuer,
            "sub": subject,
            "role": role,
            "iat": now,
            "jti": jti or secrets.token_urlsafe(16),
        }
        if role in ("device", "staff", *OPERATOR_ROLES):
            claims["rev"] = self.subject_mark(subject)
        if store_id is not None:
            claims["store"] = store_id
        if ttl_s is not None:
            claims["exp"] = now + ttl_s
        if audience is not None:
            claims["aud"] = audience
        claims.update(extra or {})
        return jwt.encode(claims, self._private, algorithm=_ALGORITHM, headers={"kid": self._kid})

    def verify(self, token: str) -> Principal:
        """The caller behind a bearer token (the admin token, or a signed one without audience)."""
        if self._admin_sha256 and hmac.compare_digest(hashlib.sha256(token.encode()).digest(), self._admin_sha256):
            return Principal(role="admin", subject="admin")
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        principal, expires = self.decode(token)
        if len(self._verified) >= self._cache_size:
            # Full: the oldest tenth goes (a dict keeps insertion order). Emptied all at once, a
            # cache smaller than the fleet made nearly every phone's next upload a miss.
            for old in list(itertools.islice(self._verified, max(1, self._cache_size // 10))):
                del self._verified[old]
        self._verified[token] = (principal, expires)
        return principal

    def decode(self, token: str, audience: str | None = None, what: str = "token") -> tuple[Principal, float]:
        """The one decoder of signed tokens: who it names and when it expires (epoch seconds, inf if never).
        A token made for an audience is valid only where that audience is asked for, and vice versa."""
        principal, _ = self.claims(token, audience, what)
        return principal, principal.expires

    def claims(self, token: str, audience: str | None = None, what: str = "token") -> tuple[Principal, dict[str, Any]]:
        """`decode`, with every claim of the token."""
        required = ["iss", "sub", "role", "iat"] + (["exp"] if audience is not None else [])
        try:
            issuer, public_key = self._issuers.by_kid[str(jwt.get_unverified_header(token).get("kid"))]
            claims = jwt.decode(
                token,
                public_key,
                algorithms=[_ALGORITHM],
                issuer=_ISSUER_PREFIX + issuer,
                audience=audience,
                options={"require": required},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized(f"{what} expired") from exc
        except (jwt.PyJWTError, KeyError) as exc:  # KeyError: no key we trust has that kid
            raise Unauthorized(f"invalid {what}") from exc
        role, subject = claims.get("role"), str(claims["sub"])
        if role not in MAY_ISSUE[issuer] or (role == "service" and subject != issuer):
            raise Unauthorized(f"invalid {what}")  # signed by a service that may not grant it
        if role == "staff" and not claims.get("store"):
            raise Unauthorized(f"invalid {what}")
        stores = claims.get("stores", [])
        if not isinstance(stores, list) or not all(isinstance(store, str) for store in stores):
            raise Unauthorized(f"invalid {what}")
        if role == "store_manager" and not stores:
            raise Unauthorized(f"invalid {what}")
        principal = Principal(
            role=role,
            subject=subject,
            store_id=claims.get("store"),
            stores=tuple(stores),
            expires=float(claims.get("exp", math.inf)),
            token_id=claims.get("jti"),
            subject_mark=claims.get("rev"),
        )
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


def refuse_revoked(principal: Principal, is_revoked: Callable[[Principal], bool]) -> None:
    """A rotated token, a removed staff member's or an erased device's tokens are refused (the admin
    token is the operator's secret, changed by configuration, never revoked)."""
    if is_revoked(principal):
        raise Unauthorized("token revoked")


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
        if principal.role == "service":
            # What a service asks another for is always a read (an order to check, a device's data for
            # an export), and only the reads it makes: a leaked service token changes nothing anywhere
            # and reads no more than its service needs.
            if cast("HTTPScope", scope)["method"] not in READS:  # `scopes`: HTTP only
                raise Forbidden("a service token may only read")
            if principal.subject not in scope["route_handler"].opt.get(SERVICE_READS, ()):
                raise Forbidden(f"this call is not one {principal.subject} makes")
        scope["user"] = principal
        caller = CALLER.set(principal)
        call = CALL.set(f"{cast('HTTPScope', scope)['method']} {scope['path']}")
        try:
            await next_app(scope, receive, send)
        finally:
            CALL.reset(call)
            CALLER.reset(caller)  # a server runs each request in a task of its own; a test client may not


READS = frozenset({"GET", "HEAD"})


class ServiceTokens:
    """This service's own token for calling the others: short-lived, re-issued before it runs out."""

    def __init__(self, signer: TokenSigner, service: str, ttl_s: int) -> None:
        self._signer, self._service, self._ttl_s = signer, service, ttl_s  # the signer is the service's own
        self._token, self._renew_at = "", 0.0

    def current(self) -> str:
        now = time.time()
        if now >= self._renew_at:
            self._token = self._signer.issue("service", self._service, ttl_s=self._ttl_s)
            self._renew_at = now + self._ttl_s / 2
        return self._token
