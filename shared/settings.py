"""Settings common to the three services, read from the environment once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from hashlib import sha256
from typing import Annotated, Literal, TypeVar

import msgspec

from shared.clients import networks
from shared.cors import check_origin
from shared.errors import ConfigError
from shared.keys import public_of_text

SERVICES = ("geo", "inventory", "notify")
DEFAULT_PORTS = {"geo": 8001, "inventory": 8002, "notify": 8003}

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
S = TypeVar("S", bound=msgspec.Struct)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str
    """Any PostgreSQL >= 14; `accueil run` fills it in with the embedded server's address."""

    admin_token: str = ""
    """The operator's bearer token. A service needs only its digest (below): the manifests and
    `accueil run` give it that, so no service process holds the token itself."""

    admin_token_sha256: str = ""
    """The SHA-256 of the admin token, in hex: what a service recognises the token by."""

    token_key: Annotated[str, msgspec.Meta(min_length=32)]
    """This service's own secret (each Deployment has its own): the key signing its tokens (Ed25519,
    notify's device and staff tokens, each service's own service tokens) and its other keys are derived
    from it (shared.keys)."""

    token_issuers: tuple[str, ...] = ()
    """The public keys tokens are checked with: `issuer:key` for notify, geo and inventory, as
    `accueil keys` prints them (a rotation lists an issuer's old and new key for a while). Empty: the
    three share this process's own token key, as in a single-process test (no least privilege)."""

    service_token_ttl_s: Annotated[int, msgspec.Meta(ge=10, le=86_400)] = 900
    """How long a token one service calls another with lasts (renewed halfway): it reads only what its
    service reads, so a leaked one reads that for minutes and changes nothing."""

    token_key_version: Annotated[int, msgspec.Meta(ge=1)] = 1
    """Raise it to rotate this service's keys: a new signing key (publish its public key first),
    pseudonyms stay."""

    data_dir: str = ".accueil"
    """Embedded database files and generated keys."""

    host: str = "127.0.0.1"
    """Address the HTTP server binds to (0.0.0.0 in a container)."""

    geo_port: Port = DEFAULT_PORTS["geo"]
    inventory_port: Port = DEFAULT_PORTS["inventory"]
    notify_port: Port = DEFAULT_PORTS["notify"]

    geo_url: str = ""
    inventory_url: str = ""
    notify_url: str = ""
    """Where the services reach each other; by default http://127.0.0.1:<that service's port>."""

    push_hosts: tuple[str, ...] = ()
    """Push-service hosts (host:port) allowed beside the well-known ones."""

    cors_origins: tuple[str, ...] = ()
    """Browser origins (scheme://host[:port]) whose pages may call this service (CORS): the origin
    notify's shopper page is served from, for geo and inventory. Empty: no cross-origin answers."""

    trusted_proxies: tuple[str, ...] = ()
    """The proxies (CIDRs, e.g. the Ingress controller's pods) whose X-Forwarded-For is believed: behind
    them, the client's address is the one they were given (shared.clients)."""

    db_pool_min: Annotated[int, msgspec.Meta(ge=1)] = 1
    db_pool_max: Annotated[int, msgspec.Meta(ge=1)] = 10
    db_connect_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    """How long start-up waits for the database to come up before giving up."""

    bus_poll_s: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    """Fallback poll of the event bus when no LISTEN/NOTIFY wake-up arrives."""

    event_retention_days: Annotated[int, msgspec.Meta(ge=1)] = 30
    """Delivered events are kept this long in the event log (the public feed), then deleted."""

    event_personal_hours: Annotated[int, msgspec.Meta(ge=1)] = 24
    """Trip and order events keep the shopper's display name and distances this long in the event log
    (as geo keeps them on an ended trip), then carry them no more."""

    migrate_on_start: bool = True
    """`accueil serve` applies its own service's migrations before serving (safe with several replicas)."""

    max_connections: Annotated[int, msgspec.Meta(ge=1)] = 1000
    """`accueil serve`: past this many open connections (streams included), a request gets 503 at once
    instead of a process starved of memory and file descriptors."""

    log_level: str = "INFO"

    log_format: Literal["auto", "json", "text"] = "auto"
    """`auto`: plain lines when stderr is a terminal (`accueil run` in a shell), JSON lines otherwise."""

    @property
    def admin_digest(self) -> bytes:
        if self.admin_token_sha256:
            return bytes.fromhex(self.admin_token_sha256)
        return sha256(self.admin_token.encode()).digest()

    def port_of(self, service: str) -> int:
        port: int = getattr(self, f"{service}_port")
        return port

    def url_of(self, service: str) -> str:
        url: str = getattr(self, f"{service}_url")
        return url


# Variables that do not follow the ACCUEIL_<FIELD> pattern.
_ALIASES = {"database_url": "DATABASE_URL"}


def env_name(field: str) -> str:
    return _ALIASES.get(field, f"ACCUEIL_{field.upper()}")


EMPTY_IS_A_VALUE = msgspec.Meta(extra={"empty_is_a_value": True})
"""On a setting whose default is something and whose empty value means none (a feature turned off):
its variable set empty is taken as empty. Any other setting set empty keeps its default."""


def empty_is_a_value(hint: object) -> bool:
    return any(m is EMPTY_IS_A_VALUE for m in getattr(hint, "__metadata__", ()))


def load_env(cls: type[S], env: Mapping[str, str] | None = None, **overrides: object) -> S:
    """Build a settings Struct from ACCUEIL_<FIELD> variables (plus explicit overrides), refusing bad
    values at start-up with the variable's name. Tuple fields are comma-separated lists."""
    env = os.environ if env is None else env
    hints = msgspec.structs.fields(cls)
    raw: dict[str, object] = {}
    for f in hints:
        value = env.get(env_name(f.name))
        if value is None or (value == "" and not empty_is_a_value(f.type)):
            continue
        if getattr(f.type, "__origin__", None) is tuple or f.type is tuple:
            raw[f.name] = tuple(v.strip() for v in value.split(",") if v.strip())
        else:
            raw[f.name] = value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {_explain(exc, cls)}") from exc


def load_settings(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """The common settings; service URLs default to the services' local ports."""
    settings = load_env(Settings, env, **overrides)
    try:
        networks(settings.trusted_proxies)
    except ValueError as exc:
        raise ConfigError(f"invalid configuration: ACCUEIL_TRUSTED_PROXIES: {exc}") from exc
    try:
        for origin in settings.cors_origins:
            check_origin(origin)
    except ValueError as exc:
        raise ConfigError(f"invalid configuration: ACCUEIL_CORS_ORIGINS: {exc}") from exc
    _check_admin_token(settings)
    for entry in settings.token_issuers:
        issuer, _, text = entry.partition(":")
        try:
            if issuer.strip() not in SERVICES:
                raise ValueError(f"{issuer!r} is none of {', '.join(SERVICES)}")
            public_of_text(text.strip())
        except ValueError as exc:
            raise ConfigError(f"invalid configuration: ACCUEIL_TOKEN_ISSUERS: {entry!r}: {exc}") from exc
    urls = {f"{s}_url": f"http://127.0.0.1:{settings.port_of(s)}" for s in SERVICES if not settings.url_of(s)}
    return msgspec.structs.replace(settings, **urls) if urls else settings


def _check_admin_token(settings: Settings) -> None:
    token, digest = settings.admin_token, settings.admin_token_sha256
    if not token and not digest:
        raise ConfigError(
            "invalid configuration: missing required setting ACCUEIL_ADMIN_TOKEN_SHA256 (or ACCUEIL_ADMIN_TOKEN)"
        )
    if token and len(token) < 16:
        raise ConfigError("invalid configuration: ACCUEIL_ADMIN_TOKEN: at least 16 characters")
    if digest:
        try:
            if len(bytes.fromhex(digest)) != 32:
                raise ValueError
        except ValueError as exc:
            raise ConfigError("invalid configuration: ACCUEIL_ADMIN_TOKEN_SHA256: 64 hexadecimal digits") from exc
        if token and sha256(token.encode()).hexdigest() != digest.lower():
            raise ConfigError("invalid configuration: ACCUEIL_ADMIN_TOKEN_SHA256 is not ACCUEIL_ADMIN_TOKEN's digest")


def _explain(exc: msgspec.ValidationError, cls: type[msgspec.Struct]) -> str:
    """Name the environment variable rather than the struct field."""
    message = str(exc).replace("Object missing required field", "missing required setting")
    for field in cls.__struct_fields__:
        message = message.replace(f"`$.{field}`", env_name(field)).replace(f"`{field}`", env_name(field))
    return message
