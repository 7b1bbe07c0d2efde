"""notify: consent per purpose, consented and stock-aware messages delivered by Web Push."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State

from services.notify import vapid
from services.notify.consumers import CONSUMERS
from services.notify.endpoints import EndpointPolicy
from services.notify.jobs import JOBS
from services.notify.routes import ROUTES
from services.notify.sender import Sender, push_session
from services.notify.settings import NotifySettings
from shared.app import ServiceSpec, build_app
from shared.migrations import MigrationSet
from shared.settings import Settings


async def start_delivery(state: State) -> None:
    """Keys, the allowed push services and the decision policy, checked before anything is decided;
    then one aiohttp session for every push and this replica's sender."""
    state.endpoints = EndpointPolicy.from_hosts(state.settings.push_hosts)
    state.policy = state.config.policy()
    state.vapid = await vapid.load(state.pool, state.config)
    state.push_session = push_session(state.endpoints, state.config.push_timeout_s)
    state.sender = Sender(state)
    state.sender.start()


async def stop_delivery(state: State) -> None:
    sender = getattr(state, "sender", None)
    if sender is not None:
        await sender.stop()
    session = getattr(state, "push_session", None)
    if session is not None:
        await session.close()


SPEC = ServiceSpec(
    name="notify",
    route_handlers=ROUTES,
    migrations=MigrationSet(schema="notify", package="services.notify"),
    consumers=CONSUMERS,
    jobs=JOBS,
    settings_type=NotifySettings,
    on_startup=[start_delivery],
    on_shutdown=[stop_delivery],
    description="Consent with proof, consented and stock-aware messages delivered by Web Push.",
)


def create_app(settings: Settings, config: NotifySettings | None = None) -> Litestar:
    return build_app(SPEC, settings, config)
