"""A stand-in for Firebase Cloud Messaging's HTTP v1 API and for Google's OAuth token endpoint, over
real TLS: one port, HTTP/2 (what a sender keeps many sends in flight on) and HTTP/1.1 (what
google-auth's requests transport speaks).

The token endpoint does the OAuth 2.0 JWT bearer grant as oauth2.googleapis.com does: the assertion
must be RS256, verified with the PUBLIC key of the service account, `iss` its client_email, `scope`
naming firebase.messaging, `aud` the token_uri or Google's own (google-auth always writes Google's),
and live at most an hour. It hands out opaque access tokens that `messages:send` then requires.

`POST /v1/projects/{project_id}/messages:send` checks the message as FCM does (a token, a notification
of strings, data of strings only, Android options of the right shapes, unknown fields refused) and
answers `{"name": "projects/<p>/messages/<id>"}`, or an error in Google's shape: `{"error": {"code",
"message", "status", "details": [FcmError with errorCode, ...]}}`, with Retry-After on a 429.

A test scripts the answers to come: `fail(token, (429, "QUOTA_EXCEEDED", 2), (503, "UNAVAILABLE"))`,
`unregister(token)` (404 UNREGISTERED), `invalid_token(token)` (400 INVALID_ARGUMENT naming
`message.token`), `revoke_access_tokens()` (401 for every token issued so far), `hang(token)` (taken
in, never answered).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.h2_server import H2Server, Request, Response
from tests.support.push_pki import TestPki
from tests.support.standin import PushLog, StandIn, never_answered

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
TOKEN_PATH = "/token"
SEND = re.compile(r"^/v1/projects/([^/]+)/messages:send$")
MAX_ASSERTION_LIFETIME_S = 3600
CLOCK_SKEW_S = 60
MAX_TTL_S = 28 * 24 * 3600
MAX_PAYLOAD = 4096
REGISTRATION_TOKEN = re.compile(r"^[A-Za-z0-9_:.\-]{1,4096}$")
RESERVED_DATA_KEYS = ("from", "notification", "message_type")
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"

# The google.rpc status and the message Google writes with each FCM error code.
STATUSES = {
    "INVALID_ARGUMENT": ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    "UNREGISTERED": ("NOT_FOUND", "Requested entity was not found."),
    "SENDER_ID_MISMATCH": ("PERMISSION_DENIED", "SenderId mismatch"),
    "QUOTA_EXCEEDED": ("RESOURCE_EXHAUSTED", "Quota exceeded for the device."),
    "UNAVAILABLE": ("UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": ("INTERNAL", "Internal error encountered."),
    "THIRD_PARTY_AUTH_ERROR": ("UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
    "UNSPECIFIED_ERROR": ("UNKNOWN", "Unknown error."),
}
NOT_A_TOKEN = "The registration token is not a valid FCM registration token"

MESSAGE_FIELDS = {"token", "notification", "data", "android", "apns", "webpush", "fcm_options", "name"}
NOTIFICATION_FIELDS = {"title", "body", "image"}
ANDROID_FIELDS = {
    "collapse_key",
    "priority",
    "ttl",
    "restricted_package_name",
    "data",
    "notification",
    "fcm_options",
    "direct_boot_ok",
}
PRIORITIES = {"high", "normal", "HIGH", "NORMAL"}
DURATION = re.compile(r"^\d+(\.\d{1,9})?s$")


@dataclass(frozen=True)
class ServiceAccount:
    """A Google service account and its key, as the JSON key file a console download gives."""

    project_id: str
    client_email: str
    private_key_pem: str  # RSA 2048, PKCS#8
    private_key_id: str
    client_id: str = "109876543210987654321"

    def info(self, token_uri: str) -> dict[str, str]:
        """The key file's content, with the same fields as Google's."""
        return {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.private_key_id,
            "private_key": self.private_key_pem,
            "client_email": self.client_email,
            "client_id": self.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/" + quote(self.client_email),
            "universe_domain": "googleapis.com",
        }

    def write(self, path: Path, token_uri: str) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.info(token_uri), indent=2))
        path.chmod(0o600)
        return path

    def public_key(self) -> rsa.RSAPublicKey:
        key = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key.public_key()


def make_service_account(project_id: str = "accueil-test") -> ServiceAccount:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ServiceAccount(
        project_id=project_id,
        client_email=f"accueil-push@{project_id}.iam.gserviceaccount.com",
        private_key_pem=pem.decode(),
        private_key_id=secrets.token_hex(20),
    )


def registration_token() -> str:
    """A registration token shaped as an Android app gets one: an instance id, then `:APA91b...`."""
    return f"{secrets.token_urlsafe(16)[:22]}:APA91b{secrets.token_urlsafe(101)[:134]}"


@dataclass(frozen=True, slots=True)
class FcmSend:
    """One messages:send request, whatever was answered."""

    token: str
    message: dict[str, Any]
    access_token: str | None
    status: int | None  # None: taken in, never answered (`hang`)
    error_code: str | None  # the FcmError errorCode, or the google.rpc status when there is none (401)
    received_at: float  # time.monotonic()
    http_version: str = "2"
    name: str | None = None  # projects/<p>/messages/<id> when delivered

    @property
    def message_id(self) -> str | None:
        data = self.message.get("data")
        return data.get("message_id") if isinstance(data, dict) else None


class Refused(Exception):
    def __init__(self, status: int, error_code: str, message: str | None = None, *details: dict[str, Any]) -> None:
        super().__init__(message or error_code)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.details = details
        self.retry_after: int | None = None


def _invalid(message: str, field: str | None = None) -> Refused:
    violation = [{"@type": BAD_REQUEST, "fieldViolations": [{"field": field, "description": message}]}] if field else []
    return Refused(400, "INVALID_ARGUMENT", message, *violation)


class LocalFcm(StandIn[FcmSend]):
    """`async with LocalFcm(pki, account) as fcm:` on 127.0.0.1, a free port."""

    def __init__(self, pki: TestPki, account: ServiceAccount, *, bind: str = "127.0.0.1", port: int = 0) -> None:
        self.pki = pki
        self.account = account
        self.access_token_lifetime_s = 3600
        self.access_tokens_issued = 0
        self.grants_refused: list[str] = []  # why each refused token request was refused
        # A duplicate: a second delivered send to one token with the same data.message_id.
        log: PushLog[FcmSend] = PushLog(lambda s: s.status == 200, lambda s: s.message_id and (s.token, s.message_id))
        self._public = account.public_key()
        self._access: dict[str, float] = {}  # access token -> when it expires (time.time())
        self._revoked: set[str] = set()
        self._scripts: dict[str, list[tuple[int, str] | tuple[int, str, int]]] = {}
        self._unregistered: set[str] = set()
        self._invalid_tokens: set[str] = set()
        # HTTP/1.1 too: google-auth's requests transport speaks nothing else to the token endpoint.
        context = pki.server_context(("h2", "http/1.1"))
        super().__init__(H2Server(self.handle, context, host=bind, port=port), log)

    @property
    def token_uri(self) -> str:
        """What the service-account file names as its token_uri (`url` is ACCUEIL_FCM_URL)."""
        return self.url + TOKEN_PATH

    @property
    def sends(self) -> list[FcmSend]:
        """Every messages:send request, whatever the answer."""
        return self.log.received

    # What a test arranges.

    def fail(self, token: str, *answers: tuple[int, str] | tuple[int, str, int]) -> None:
        """The next sends to `token` (that pass the checks) get these answers in order, then 200: each
        (status, errorCode) or (status, errorCode, Retry-After seconds)."""
        self._scripts.setdefault(token, []).extend(answers)

    def unregister(self, token: str) -> None:
        """From now on sends to `token` answer 404 UNREGISTERED (the app was uninstalled)."""
        self._unregistered.add(token)

    def invalid_token(self, token: str) -> None:
        """From now on sends to `token` answer 400 INVALID_ARGUMENT naming `message.token`."""
        self._invalid_tokens.add(token)

    def revoke_access_tokens(self) -> None:
        """Every access token issued so far answers 401 UNAUTHENTICATED from now on."""
        self._revoked.update(self._access)

    async def wait_for(self, n: int, timeout: float = 10.0) -> list[FcmSend]:
        """Once `n` sends have been delivered: the delivered sends."""
        return await self.log.wait_for(n, timeout, lambda s: (s.token[:12], s.status, s.error_code))

    # The services.

    def handle(self, request: Request) -> Response | Awaitable[Response]:
        if request.path == TOKEN_PATH:
            return self.grant(request)
        return self.send(request)

    def grant(self, request: Request) -> Response:
        """The OAuth 2.0 token endpoint (RFC 7523 JWT bearer grant)."""
        if request.method != "POST":
            return Response(405, {"allow": "POST"})
        try:
            form = self._form(request)
            if form.get("grant_type") != JWT_BEARER:
                raise _GrantRefused("unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}")
            scope = self._check_assertion(form.get("assertion", ""))
        except _GrantRefused as refused:
            self.grants_refused.append(refused.description)
            body = {"error": refused.error, "error_description": refused.description}
            return _json(400, body)
        access_token = "ya29.c." + secrets.token_urlsafe(96)
        self._access[access_token] = time.time() + self.access_token_lifetime_s
        self.access_tokens_issued += 1
        body = {"access_token": access_token, "expires_in": self.access_token_lifetime_s, "token_type": "Bearer"}
        return _json(200, body | ({"scope": scope} if scope else {}))

    @staticmethod
    def _form(request: Request) -> dict[str, str]:
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(request.body)
            except ValueError:
                raise _GrantRefused("invalid_request", "The body is not JSON") from None
            return {k: v for k, v in body.items() if isinstance(v, str)} if isinstance(body, dict) else {}
        return {name: values[0] for name, values in parse_qs(request.body.decode("latin-1")).items()}

    def _check_assertion(self, assertion: str) -> str:
        if not assertion:
            raise _GrantRefused("invalid_request", "Missing required parameter: assertion")
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                self._public,
                algorithms=["RS256"],
                audience=[GOOGLE_TOKEN_URI, self.token_uri],
                options={"verify_iat": False, "verify_exp": False, "require": ["iss", "aud", "iat", "exp"]},
            )
        except jwt.InvalidAudienceError:
            raise _GrantRefused("invalid_grant", "Invalid JWT: audience") from None
        except jwt.PyJWTError as error:
            raise _GrantRefused("invalid_grant", f"Invalid JWT Signature. ({error})") from None
        if header.get("kid") not in (None, self.account.private_key_id):
            raise _GrantRefused("invalid_grant", "Invalid JWT Signature. (kid names another key)")
        if claims["iss"] != self.account.client_email:
            raise _GrantRefused("invalid_grant", "Invalid JWT Signature. (iss is not the key's account)")
        iat, exp, now = claims["iat"], claims["exp"], time.time()
        if not (isinstance(iat, int) and isinstance(exp, int)):
            raise _GrantRefused("invalid_grant", "Invalid JWT: iat and exp must be integers")
        if exp - iat > MAX_ASSERTION_LIFETIME_S or iat > now + CLOCK_SKEW_S or exp < now:
            raise _GrantRefused(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
                "Check your iat and exp values in the JWT claim.",
            )
        scope = claims.get("scope")
        if not isinstance(scope, str) or not scope.strip():
            raise _GrantRefused("invalid_scope", "Empty or missing scope not allowed.")
        if FCM_SCOPE not in scope.split():
            raise _GrantRefused("invalid_scope", f"The scope does not include {FCM_SCOPE}")
        return scope

    def send(self, request: Request) -> Response | Awaitable[Response]:
        token, message, access_token, name = "", {}, None, None
        retry_after: int | None = None
        try:
            match = SEND.match(request.path)
            if match is None or request.method != "POST":
                raise Refused(404, "NOT_FOUND", "Method not found.")
            access_token = self._check_access(request.headers.get("authorization"))
            if match.group(1) != self.account.project_id:
                raise Refused(403, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied")
            message, token = _as_sent(request.body)  # for the log, even if the message is refused
            message = self._message(request.body)
            if self._hung(token):
                self.log.add(FcmSend(token, message, access_token, None, None, time.monotonic(), request.http_version))
                return never_answered()
            status, error_code, retry_after = self._answer(token)
            if status != 200:
                raise Refused(status, error_code or "UNSPECIFIED_ERROR")
            name = f"projects/{self.account.project_id}/messages/0:{time.time_ns() // 1000}%{secrets.token_hex(8)}"
            error: Refused | None = None
        except Refused as refused:
            error, status, error_code = refused, refused.status, refused.error_code
        now = time.monotonic()
        self.log.add(FcmSend(token, message, access_token, status, error_code, now, request.http_version, name))
        if error is None:
            return _json(200, {"name": name})
        return self._error(error, retry_after)

    def _check_access(self, authorization: str | None) -> str:
        scheme, _, access_token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not access_token:
            raise Refused(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 access token.",
                {"@type": ERROR_INFO, "reason": "CREDENTIALS_MISSING", "domain": "googleapis.com"},
            )
        expires = self._access.get(access_token)
        if expires is None or access_token in self._revoked or expires < time.time():
            reason = "ACCESS_TOKEN_EXPIRED" if expires is not None else "ACCESS_TOKEN_TYPE_UNSUPPORTED"
            raise Refused(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
                {"@type": ERROR_INFO, "reason": reason, "domain": "googleapis.com"},
            )
        return access_token

    def _message(self, body: bytes) -> dict[str, Any]:
        """The message if FCM would take it; else INVALID_ARGUMENT naming the field, as Google's parser does."""
        try:
            document = json.loads(body)
        except ValueError:
            raise _invalid("Invalid JSON payload received.") from None
        if not isinstance(document, dict) or not isinstance(document.get("message"), dict):
            raise _invalid("Invalid JSON payload received. The message is missing.", "message")
        _known(document, {"message", "validate_only"}, "")
        message: dict[str, Any] = document["message"]
        _known(message, MESSAGE_FIELDS, "message.")
        token = message.get("token")
        if not isinstance(token, str) or not token:
            raise _invalid("Recipient of the message is not set.", "message.token")
        if not REGISTRATION_TOKEN.match(token) or token in self._invalid_tokens:
            raise _invalid(NOT_A_TOKEN, "message.token")
        size = len(_strings(message.get("notification"), "message.notification", NOTIFICATION_FIELDS))
        size += _data(message.get("data"), "message.data")
        android = message.get("android")
        if android is not None:
            _android(android)
        if size > MAX_PAYLOAD:
            raise _invalid("Message is too big", "message")
        return message

    def _answer(self, token: str) -> tuple[int, str | None, int | None]:
        script = self._scripts.get(token)
        if script:
            answer = script.pop(0)
            retry_after = answer[2] if len(answer) == 3 else (1 if answer[0] == 429 else None)
            return answer[0], answer[1], retry_after
        if token in self._unregistered:
            return 404, "UNREGISTERED", None
        return 200, None, None

    @staticmethod
    def _error(error: Refused, retry_after: int | None) -> Response:
        status_name, default_message = STATUSES.get(error.error_code, (error.error_code, error.error_code))
        details: list[dict[str, Any]] = []
        if error.error_code in STATUSES:
            details.append({"@type": FCM_ERROR, "errorCode": error.error_code})
        details += error.details
        body: dict[str, Any] = {
            "code": error.status,
            "message": error.message or default_message,
            "status": status_name,
        }
        if details:
            body["details"] = details
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        if error.status == 401:
            headers["www-authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        return _json(error.status, {"error": body}, headers)


class _GrantRefused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        status, {"content-type": "application/json; charset=UTF-8", **(headers or {})}, json.dumps(body).encode()
    )


def _as_sent(body: bytes) -> tuple[dict[str, Any], str]:
    """The message and its token as far as they can be read, whether FCM would take them or not."""
    try:
        document = json.loads(body)
    except ValueError:
        return {}, ""
    message = document.get("message") if isinstance(document, dict) else None
    if not isinstance(message, dict):
        return {}, ""
    token = message.get("token")
    return message, token if isinstance(token, str) else ""


def _known(obj: dict[str, Any], fields: set[str], prefix: str) -> None:
    for name in obj:
        if name not in fields:
            raise _invalid(
                f"Invalid JSON payload received. Unknown name \"{name}\" at '{prefix.rstrip('.')}': Cannot find field.",
                f"{prefix}{name}",
            )


def _strings(obj: object, where: str, fields: set[str]) -> str:
    """An object of string fields among `fields`; their text, for the size."""
    if obj is None:
        return ""
    if not isinstance(obj, dict):
        raise _invalid(f"Invalid value at '{where}': not an object", where)
    _known(obj, fields, where + ".")
    for name, value in obj.items():
        if not isinstance(value, str):
            raise _invalid(f"Invalid value at '{where}.{name}' (TYPE_STRING), {json.dumps(value)}", f"{where}.{name}")
    return "".join(obj.values())


def _data(obj: object, where: str) -> int:
    """A map of strings to strings, without FCM's reserved keys; its size."""
    if obj is None:
        return 0
    if not isinstance(obj, dict):
        raise _invalid(f"Invalid value at '{where}': not a map", where)
    size = 0
    for i, (key, value) in enumerate(obj.items()):
        if not isinstance(value, str):
            at = f"{where}[{i}].value"
            raise _invalid(f"Invalid value at '{at}' (TYPE_STRING), {json.dumps(value)}", at)
        if key in RESERVED_DATA_KEYS or key.startswith(("google.", "gcm.")) or not key:
            raise _invalid(f"Invalid data payload key: {key}", f"{where}[{i}].key")
        size += len(key) + len(value)
    return size


def _android(android: object) -> None:
    where = "message.android"
    if not isinstance(android, dict):
        raise _invalid(f"Invalid value at '{where}': not an object", where)
    _known(android, ANDROID_FIELDS, where + ".")
    priority = android.get("priority")
    if priority is not None and priority not in PRIORITIES:
        at = f"{where}.priority"
        raise _invalid(
            f"Invalid value at '{at}' (type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), "
            f"{json.dumps(priority)}",
            at,
        )
    ttl = android.get("ttl")
    if ttl is not None:
        at = f"{where}.ttl"
        if not isinstance(ttl, str) or not DURATION.match(ttl):
            raise _invalid(
                f"Invalid value at '{at}' (type.googleapis.com/google.protobuf.Duration), {json.dumps(ttl)}", at
            )
        if float(ttl[:-1]) > MAX_TTL_S:
            raise _invalid("TTL must be at most 4 weeks", at)
    collapse_key = android.get("collapse_key")
    if collapse_key is not None and not isinstance(collapse_key, str):
        at = f"{where}.collapse_key"
        raise _invalid(f"Invalid value at '{at}' (TYPE_STRING), {json.dumps(collapse_key)}", at)
    _data(android.get("data"), f"{where}.data")
