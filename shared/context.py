"""The typed application context: what a service's lifespan builds once and hands to its routes,
bus consumers and jobs, instead of attributes hung on an untyped state.

Each service extends `Context` with its own parts (settings, indexes, clients) in a frozen dataclass
of its own, built by its `context` factory (see `shared.app.ServiceSpec`) from the common parts:
`GeoContext(**base.parts(), config=...)`. `parts()` is a TypedDict, so the type checker matches each
common part to its field and reports one that is missing or of the wrong type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypedDict, TypeVar

import asyncpg
import httpx
from litestar import Request
from litestar.di import NamedDependency
from litestar.params import SkipValidation

from shared import bus
from shared.auth import ServiceTokens, TokenSigner
from shared.db import Database
from shared.events import Event
from shared.revocation import RevocationWatcher
from shared.settings import Settings

C = TypeVar("C", bound="Context")


class ContextParts(TypedDict):
    """The common parts of every service's context, by field name (`Context.parts`)."""

    service: str
    settings: Settings
    db: Database
    http: httpx.AsyncClient
    signer: TokenSigner
    revocations: RevocationWatcher
    service_tokens: ServiceTokens


@dataclass(frozen=True, kw_only=True)
class Context:
    service: str
    """The service's name: the source of every event it publishes."""
    settings: Settings
    db: Database
    http: httpx.AsyncClient
    """One client for every call to another accueil service."""
    signer: TokenSigner
    revocations: RevocationWatcher
    service_tokens: ServiceTokens
    """This service's own token for calling the others: read-only, short-lived, renewed as it goes."""

    async def publish(self, conn: asyncpg.Connection, events: Sequence[Event]) -> list[Event]:
        """Publish in the caller's transaction: the events exist if and only if it commits."""
        return await bus.publish(conn, self.service, events)

    def parts(self) -> ContextParts:
        """The common parts, to build a service's own context from this one."""
        return ContextParts(
            service=self.service,
            settings=self.settings,
            db=self.db,
            http=self.http,
            signer=self.signer,
            revocations=self.revocations,
            service_tokens=self.service_tokens,
        )


def context_of(request: Request[Any, Any, Any]) -> Any:
    """The service's context, from the request itself: for the few hot routes where resolving the
    `ctx` dependency costs a measurable part of the request."""
    return request.app.state.ctx


FromContext: TypeAlias = SkipValidation[NamedDependency[C]]
"""A route parameter `ctx: FromContext[GeoContext]` receives the service's context (taken as it is:
it is built by the service itself, not decoded from a request)."""
