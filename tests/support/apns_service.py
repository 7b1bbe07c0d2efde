"""A stand-in for Apple's Push Notification service (APNs), token-based, over real HTTP/2 and TLS.

It answers as api.push.apple.com does, and refuses what Apple refuses: `POST /3/device/<hex token>`
only; a provider JWT (ES256, `kid` = the key id, `iss` = the team id, `iat` at most an hour old)
verified with the PUBLIC half of the signing key; a connection switching to a new JWT sooner than 20
minutes after its last one refused with TooManyProviderTokenUpdates; `apns-topic`, `apns-push-type`,
`apns-priority`, `apns-expiration`, `apns-collapse-id`, `apns-id` and the payload (a JSON object with
`aps`, at most 4 KB) checked; device tokens are 32 to 100 bytes in hex; HTTP/2 only.
Every answer carries `apns-id` (the request's, or a fresh UUID) and, unless it is 200, a JSON body
`{"reason": ...}` in one DATA frame (aioapns parses each DATA frame as a whole JSON document).

A test scripts the answers to come: `fail(token, (429, "TooManyRequests"), ...)`, `unregister(token,
at)` (410 with Apple's `timestamp`), `expire_provider_token()` (the JWT in use is refused as expired, a
new one is then welcome at once), `hang(token)` (taken in, never answered). Every request is kept in
`pushes`, what was answered 200 in `delivered`. A given JWT is verified once and remembered, as APNs
does: the stand-in must keep up with a sender pushing thousands a second.

Reasons for which Apple documents no name: a body that is not a JSON object with an `aps` object is
answered 400 `PayloadEmpty` when empty or without `aps`, and 400 `BadPayload` when it is not JSON.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.h2_server import H2Server, Request, Response
from tests.support.push_pki import TestPki
from tests.support.standin import PushLog, StandIn, never_answered

DEVICE_PATH = "/3/device/"
TOKEN = re.compile(r"^(?:[0-9a-fA-F]{2}){32,100}$")  # 32 bytes today, up to 100 bytes announced
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PUSH_TYPES = ("alert", "background")
PRIORITIES = ("1", "5", "10")
MAX_PAYLOAD = 4096
MAX_COLLAPSE_ID = 64
TOKEN_MAX_AGE_S = 3600
TOKEN_MIN_INTERVAL_S = 20 * 60
CLOCK_SKEW_S = 60


@dataclass(frozen=True)
class ApnsKey:
    """A token-signing key as Apple hands it out: a P-256 key in a PKCS#8 PEM (`AuthKey_<key id>.p8`)."""

    key_id: str
    team_id: str
    private_pem: bytes

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.private_pem)
        path.chmod(0o600)
        return path

    def public_key(self) -> ec.EllipticCurvePublicKey:
        key = serialization.load_pem_private_key(self.private_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key.public_key()


def make_apns_key(key_id: str = "ABC123DEFG", team_id: str = "DEF123GHIJ") -> ApnsKey:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ApnsKey(key_id=key_id, team_id=team_id, private_pem=pem)


def device_token() -> str:
    """A device token as an iPhone hands it to its app: 32 random bytes, in hex."""
    return secrets.token_hex(32)


@dataclass(frozen=True, slots=True)
class ApnsPush:
    """One request, whatever was answered."""

    token: str
    headers: dict[str, str]
    payload: dict[str, Any]
    jwt_iat: int | None  # the provider token's iat, when it could be read
    status: int | None  # None: taken in, never answered (`hang`)
    reason: str | None
    received_at: float  # time.monotonic()
    apns_id: str = ""

    @property
    def collapse_id(self) -> str | None:
        return self.headers.get("apns-collapse-id")


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass
class _Tokens:
    """What the service knows of the provider tokens of one key: each checked once, then remembered.

    Apple counts token updates per connection: a connection that switches to a new JWT less than 20
    minutes after the one it used before gets TooManyProviderTokenUpdates (clients such as aioapns
    sign one JWT per connection they open, and Apple serves them)."""

    key: ApnsKey
    public: ec.EllipticCurvePublicKey
    verified: dict[str, int | str] = field(default_factory=dict)  # JWT -> its iat, or why it is invalid
    seen: dict[str, None] = field(default_factory=dict)  # every distinct JWT, in the order first seen
    accepted: dict[str, int] = field(default_factory=dict)  # JWT -> iat, in the order first accepted
    expired: set[str] = field(default_factory=set)
    issued_before_expiry: int = 0  # a JWT with an earlier iat counts as more than an hour old
    in_use: dict[int, tuple[str, int]] = field(default_factory=dict)  # connection -> its JWT and iat

    def check(self, authorization: str | None, connection: int) -> int:
        """The iat of the request's JWT if APNs takes it on this connection, else Refused."""
        if not authorization:
            raise Refused(403, "MissingProviderToken")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Refused(403, "MissingProviderToken")
        self.seen[token] = None
        iat = self.verified.get(token)
        if iat is None:
            iat = self.verified[token] = self._verify(token)
        if isinstance(iat, str):
            raise Refused(403, iat)
        now = time.time()
        if iat > now + CLOCK_SKEW_S:
            raise Refused(403, "InvalidProviderToken")
        if token in self.expired or iat < self.issued_before_expiry or now - iat > TOKEN_MAX_AGE_S:
            raise Refused(403, "ExpiredProviderToken")
        previous = self.in_use.get(connection)
        if previous is None or previous[0] != token:
            if previous is not None and iat - previous[1] < TOKEN_MIN_INTERVAL_S:
                raise Refused(429, "TooManyProviderTokenUpdates")
            self.in_use[connection] = (token, iat)
            self.accepted.setdefault(token, iat)
        return iat

    def _verify(self, token: str) -> int | str:
        """The JWT's iat if Apple would take it (signature, alg, kid, iss), else the reason it would not."""
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token,
                self.public,
                algorithms=["ES256"],
                options={"verify_iat": False, "verify_exp": False, "verify_nbf": False, "require": ["iss", "iat"]},
            )
        except jwt.PyJWTError:
            return "InvalidProviderToken"
        if header.get("kid") != self.key.key_id or claims.get("iss") != self.key.team_id:
            return "InvalidProviderToken"
        iat = claims.get("iat")
        if not isinstance(iat, int) or isinstance(iat, bool):
            return "InvalidProviderToken"
        return iat

    def expire_current(self) -> None:
        """The JWTs in use are now more than an hour old; each connection may switch to a new one at once."""
        self.expired.update(token for token, _ in self.in_use.values())
        self.issued_before_expiry = int(time.time())
        self.in_use.clear()


class LocalApns(StandIn[ApnsPush]):
    """`async with LocalApns(pki, key, topic="com.example.shop") as apns:` on 127.0.0.1, a free port."""

    def __init__(
        self, pki: TestPki, key: ApnsKey, topic: str = "com.example.shop", *, bind: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.pki = pki
        self.key = key
        self.topic = topic
        # A duplicate: a second delivered push with the same token and apns-collapse-id.
        log: PushLog[ApnsPush] = PushLog(
            lambda p: p.status == 200, lambda p: p.collapse_id and (p.token, p.collapse_id)
        )
        self._tokens = _Tokens(key, key.public_key())
        self._scripts: dict[str, list[tuple[int, str]]] = {}
        self._unregistered: dict[str, int] = {}  # token -> ms since the epoch
        server = H2Server(self.handle, pki.server_context(("h2",)), host=bind, port=port, http1=False)
        super().__init__(server, log)

    @property
    def pushes(self) -> list[ApnsPush]:
        """Every request, whatever the answer."""
        return self.log.received

    @property
    def provider_tokens(self) -> list[str]:
        """Every distinct JWT sent, accepted or not, in the order first seen."""
        return list(self._tokens.seen)

    @property
    def accepted_provider_tokens(self) -> list[str]:
        """The distinct JWTs accepted, in the order first accepted."""
        return list(self._tokens.accepted)

    # What a test arranges.

    def fail(self, token: str, *answers: tuple[int, str]) -> None:
        """The next requests for `token` (that pass the checks) get these answers in order, then 200."""
        self._scripts.setdefault(token, []).extend(answers)

    def unregister(self, token: str, at: datetime) -> None:
        """From now on `token` answers 410 Unregistered, with `at` as the time APNs learnt it was gone."""
        self._unregistered[token] = int(at.timestamp() * 1000)

    def register(self, token: str) -> None:
        self._unregistered.pop(token, None)

    def expire_provider_token(self) -> None:
        """The JWT in use now (on each connection) is answered 403 ExpiredProviderToken from now on, as
        if an hour had gone by; a new JWT is then accepted at once."""
        self._tokens.expire_current()

    async def wait_for(self, n: int, timeout: float = 10.0) -> list[ApnsPush]:
        """Once `n` pushes have been delivered: the delivered pushes."""
        return await self.log.wait_for(n, timeout, lambda p: (p.token[:8], p.status, p.reason))

    # The service.

    def handle(self, request: Request) -> Response | Awaitable[Response]:
        apns_id = request.headers.get("apns-id") or str(uuid.uuid4())
        token, payload, iat = "", {}, None
        status: int | None
        try:
            if request.method != "POST":
                raise Refused(405, "MethodNotAllowed")
            if not request.path.startswith(DEVICE_PATH):
                raise Refused(404, "BadPath")
            token = request.path[len(DEVICE_PATH) :]
            if not token:
                raise Refused(400, "MissingDeviceToken")
            if not TOKEN.match(token):
                raise Refused(400, "BadDeviceToken")
            if not UUID.match(apns_id):
                raise Refused(400, "BadMessageId")
            iat = self._tokens.check(request.headers.get("authorization"), request.connection)
            payload = self._check(request)
            status, reason = (None, None) if self._hung(token) else self._answer(token)
        except Refused as refused:
            status, reason = refused.status, refused.reason
        self.log.add(ApnsPush(token, request.headers, payload, iat, status, reason, time.monotonic(), apns_id))
        if status is None:
            return never_answered()
        if status == 200:
            return Response(200, {"apns-id": apns_id})
        body: dict[str, Any] = {"reason": reason}
        if status == 410:
            body["timestamp"] = self._unregistered.get(token, int(time.time() * 1000))
        return Response(status, {"apns-id": apns_id, "content-type": "application/json"}, json.dumps(body).encode())

    def _check(self, request: Request) -> dict[str, Any]:
        headers = request.headers
        topic = headers.get("apns-topic")
        if not topic:
            raise Refused(400, "MissingTopic")
        if topic != self.topic:
            raise Refused(400, "TopicDisallowed")
        push_type = headers.get("apns-push-type")
        if push_type not in PUSH_TYPES:
            raise Refused(400, "InvalidPushType")
        priority = headers.get("apns-priority")
        if priority is not None and (priority not in PRIORITIES or (push_type == "background" and priority == "10")):
            raise Refused(400, "BadPriority")
        expiration = headers.get("apns-expiration")
        if expiration is not None and not expiration.isdigit():
            raise Refused(400, "BadExpirationDate")
        collapse_id = headers.get("apns-collapse-id")
        if collapse_id is not None and len(collapse_id.encode()) > MAX_COLLAPSE_ID:
            raise Refused(400, "BadCollapseId")
        body = request.body
        if not body:
            raise Refused(400, "PayloadEmpty")
        if len(body) > MAX_PAYLOAD:
            raise Refused(413, "PayloadTooLarge")
        try:
            payload = json.loads(body)
        except ValueError:
            raise Refused(400, "BadPayload") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("aps"), dict):
            raise Refused(400, "PayloadEmpty")
        return payload

    def _answer(self, token: str) -> tuple[int, str | None]:
        script = self._scripts.get(token)
        if script:
            return script.pop(0)
        if token in self._unregistered:
            return 410, "Unregistered"
        return 200, None
