"""What every service's app has in common: lifespan, auth, errors, health, metrics, the event feed.

A service describes itself with a ServiceSpec; `build_app` turns it into a Litestar app. Nothing is
created at import time: the pool, the HTTP client, the service's own parts and the bus worker live in
the lifespan, which builds the service's typed context (shared.context) and hands it to every route
(the `ctx` dependency), bus consumer and job.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import asyncpg
import httpx
import msgspec
from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import Parameter
from litestar.plugins.prometheus import PrometheusController
from litestar.response import Response
from litestar.types import Message, Receive, Scope, Send

from shared import bus, migrations, revocation
from shared.allow import with_options
from shared.auth import CALLER, BearerAuth, Caller, Issuers, Principal, ServiceTokens, TokenSigner
from shared.context import Context, FromContext
from shared.cors import cors_config
from shared.db import UNAVAILABLE, Database, as_connection, create_pool
from shared.errors import EXCEPTION_HANDLERS, ConfigError, database_unavailable_handler
from shared.events import AnyEvent
from shared.jobs import Job, JobRunner
from shared.metrics import RequestMetrics
from shared.migrations import MigrationSet
from shared.openapi import ExactOpenAPIConfig
from shared.revocation import RevocationWatcher
from shared.settings import Settings, load_env
from shared.wire import Cursor, StrictRequest, refuse_empty_body

log = logging.getLogger("accueil.app")

# Builds a service's own context from the common one and the service's settings; what it starts, it
# stops on leaving.
ContextFactory = Callable[[Context, Any], AbstractAsyncContextManager[Context]]


@asynccontextmanager
async def common_context(base: Context, _config: Any) -> AsyncIterator[Context]:
    yield base


class ServiceApp(Protocol):
    """What serves a service: its Litestar app, or the app in front of it (ServiceSpec.front)."""

    @property
    def state(self) -> State: ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    route_handlers: Sequence[Any]
    migrations: MigrationSet
    consumers: Sequence[bus.Consumer] = ()
    jobs: Sequence[Job] = ()
    context: ContextFactory = common_context
    description: str = ""
    dependencies: dict[str, Provide] = field(default_factory=dict)
    settings_type: type[msgspec.Struct] | None = None
    """The service's own settings (ACCUEIL_<FIELD> variables), handed to its context factory."""
    front: Callable[[Litestar], ServiceApp] | None = None
    """An ASGI app put in front of the service's Litestar app, for a route so hot that Litestar's own
    work per request is most of its cost: it answers that route's common case itself and hands every
    other request to the Litestar app as it came."""
    generic_plans: bool = False
    """PostgreSQL plans each prepared statement once for the connection (plan_cache_mode), for a service
    whose hot statements look rows up by key in arrays whose length varies from call to call: PostgreSQL
    would otherwise plan such a statement anew on every call (the custom plan for a short array looks
    cheaper than the generic one), which cost more than running it."""

    @property
    def migration_sets(self) -> list[MigrationSet]:
        return [migrations.BUS, self.migrations]


def provide_principal() -> Principal | None:
    """Who is calling; None on the few public routes (no token there)."""
    return CALLER.get()


@get("/healthz", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is alive. Never touches the database: a database blip must not restart pods."""
    return {"status": "ok"}


@get("/readyz", exclude_from_auth=True, include_in_schema=False)
async def readyz(state: State) -> Response[dict[str, Any]]:
    """Ready when the database answers and this service's migrations are all applied."""
    try:
        async with asyncio.timeout(2):
            async with state.ctx.db.transaction(readonly=True) as conn:
                missing = await migrations.pending(conn, state.spec.migration_sets)
    except UNAVAILABLE + (asyncio.TimeoutError,) as exc:
        return Response({"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"}, status_code=503)
    if missing:
        return Response({"status": "unavailable", "pending_migrations": missing}, status_code=503)
    return Response({"status": "ready"}, status_code=200)


class EventPage(msgspec.Struct):
    events: list[AnyEvent]
    next_after: int


@get("/v1/events")
async def event_feed(
    principal: Caller,
    ctx: FromContext[Context],
    after: Cursor = 0,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> EventPage:
    """This service's events, oldest first. Page with `after` = the last id seen."""
    principal.require_trusted()
    async with ctx.db.transaction(readonly=True) as conn:
        events = await bus.feed(conn, ctx.service, after, limit)
    return EventPage(events=events, next_after=events[-1].id if events else after)  # type: ignore[arg-type]


class _Metrics(PrometheusController):
    path = "/metrics"
    include_in_schema = False
    opt = {"exclude_from_auth": True}


async def migrate(conn: asyncpg.Connection, spec: ServiceSpec) -> list[str]:
    """Bring the schema up to date and register the service's consumers on the bus."""
    applied = await migrations.apply(conn, spec.migration_sets)
    await bus.subscribe(conn, spec.consumers)
    return applied


async def wait_for_migrations(pool: asyncpg.Pool, spec: ServiceSpec, timeout_s: float) -> None:
    """Without migrate_on_start, someone else applies the migrations (`accueil migrate`, a Kubernetes
    Job): wait for them rather than start on tables that are not there yet."""
    deadline = time.monotonic() + timeout_s
    for attempt in itertools.count():
        async with pool.acquire() as conn:
            missing = await migrations.pending(as_connection(conn), spec.migration_sets)
        if not missing:
            return
        if time.monotonic() > deadline:
            raise ConfigError(f"migrations still pending after {timeout_s:.0f}s: {', '.join(missing)}")
        if attempt == 0:
            log.info("waiting for migrations: %s", ", ".join(missing))
        await asyncio.sleep(1)


async def no_sniffing(message: Message, scope: Scope) -> None:
    """Every answer, errors included, is read as the type it says it is: a browser never guesses HTML in
    a JSON body."""
    if message["type"] == "http.response.start":
        headers = list(message.get("headers", ()))
        if not any(name.lower() == b"x-content-type-options" for name, _ in headers):
            message["headers"] = [*headers, (b"x-content-type-options", b"nosniff")]


MAX_BODY_BYTES = 1_000_000
"""Any request body above this is 413; a route that takes more (a stock import) says so itself."""


def signer_of(settings: Settings, service: str) -> TokenSigner:
    """The service's own signer: its own key, the issuers' public keys, the admin token's digest."""
    return TokenSigner(
        settings.token_key,
        version=settings.token_key_version,
        issuer=service,
        issuers=Issuers.parse(settings.token_issuers) if settings.token_issuers else None,
        admin_sha256=settings.admin_digest,
    )


def build_app(spec: ServiceSpec, settings: Settings, config: msgspec.Struct | None = None) -> ServiceApp:
    """`config` is the service's own settings; by default read from the environment (validated now,
    before anything starts)."""
    if config is None and spec.settings_type is not None:
        config = load_env(spec.settings_type)

    signer = signer_of(settings, spec.name)
    revocations = RevocationWatcher()
    state = State({"spec": spec, "signer": signer, "revocations": revocations})

    def provide_context(principal: NamedDependency[Principal | None]) -> Context:
        """The service's context (built by the lifespan). Depending on `principal` keeps the two
        dependencies in sequence: resolved side by side, Litestar would spawn a task group on every
        request. The state is this app's own: no `state` parameter for Litestar to convert each time."""
        ctx: Context = state.ctx
        return ctx

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await create_pool(
            settings.database_url,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            timeout_s=settings.db_connect_timeout_s,
            server_settings={"plan_cache_mode": "force_generic_plan"} if spec.generic_plans else None,
        )
        db = Database(pool, settings.database_url)
        # An idle connection to a peer is dropped well before the peer's server closes it (uvicorn, after
        # 5 s): at httpx's default expiry, also 5 s, a request could go out on a connection the peer was
        # closing that moment and fail (an export answered 502 because inventory "could not answer").
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(5.0, connect=2.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=2.0),
        )
        try:
            if settings.migrate_on_start:
                async with db.outside_transaction() as conn:  # a session lock: reset before the pool reuses it
                    await migrate(conn, spec)
            else:
                await wait_for_migrations(pool, spec, settings.db_connect_timeout_s)
            await revocations.start(pool, settings.database_url)
            base = Context(
                service=spec.name,
                settings=settings,
                db=db,
                http=http,
                signer=signer,
                revocations=revocations,
                service_tokens=ServiceTokens(signer, spec.name, settings.service_token_ttl_s),
            )
            async with spec.context(base, config) as ctx:
                app.state.ctx = ctx
                worker = bus.BusWorker(ctx, spec.consumers, settings.bus_poll_s)
                runner = JobRunner(ctx, [*spec.jobs, bus.RETENTION, revocation.EXPIRED])
                worker.start()
                runner.start()
                # What startup built (libraries, routes, geo's zone index) lives as long as the process:
                # out of the collector's sight, full collections stop walking it, which kept long pauses
                # out of request latency.
                gc.collect()
                gc.freeze()
                # A request allocates hundreds of objects, nearly all freed by reference counting; at
                # the default threshold (700) the young generation was collected every few requests,
                # for a tenth of geo's CPU on single pings. Cycles wait a little longer to be freed.
                gc.set_threshold(50_000)
                log.info("%s ready", spec.name)
                try:
                    yield
                finally:
                    await runner.stop()
                    await worker.stop()
        finally:
            await revocations.stop()
            await http.aclose()
            await db.close()

    handlers = [event_feed, *spec.route_handlers]
    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            _Metrics,
            Router("/", route_handlers=with_options(handlers)),
        ],
        lifespan=[lifespan],
        state=state,
        dependencies={
            "ctx": Provide(provide_context, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
            **spec.dependencies,
        },
        middleware=[RequestMetrics(app_name=f"accueil_{spec.name}"), BearerAuth()],
        request_class=StrictRequest,
        before_request=refuse_empty_body,
        before_send=[no_sniffing],
        cors_config=cors_config(settings.cors_origins),
        request_max_body_size=MAX_BODY_BYTES,
        exception_handlers={
            **EXCEPTION_HANDLERS,
            **dict.fromkeys(UNAVAILABLE, database_unavailable_handler),
        },
        openapi_config=ExactOpenAPIConfig(
            title=f"accueil {spec.name}",
            version="1.0.0",
            description=spec.description,
            path="/schema",
            handlers=handlers,
        ),
        logging_config=None,
        debug=False,
    )
    return app if spec.front is None else spec.front(app)
