"""notify: consent per purpose, consented and stock-aware messages delivered by Web Push, and the
staff's pickup alerts (live stream, Web Push, the staff page)."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State

from services.notify import privacy, vapid
from services.notify import repository as repo
from services.notify.consumers import CONSUMERS
from services.notify.endpoints import EndpointPolicy
from services.notify.jobs import JOBS
from services.notify.routes import ROUTES
from services.notify.sender import Sender, push_session
from services.notify.settings import NotifySettings
from services.notify.streams import AlertHub, close_on_signals
from shared.app import ServiceSpec, build_app
from shared.listener import Listener
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


async def start_live(state: State) -> None:
    """This replica's one listening connection: it wakes the sender and feeds the open alert streams."""
    state.alert_hub = AlertHub()
    state.listener = Listener(
        state.settings.database_url,
        {repo.SEND_CHANNEL: state.sender.wake, repo.ALERT_CHANNEL: state.alert_hub.on_notify},
        on_connect=[state.sender.wake, state.alert_hub.catch_up],
        name="notify-listen",
    )
    state.listener.start()
    close_on_signals(state.alert_hub)


async def stop_live(state: State) -> None:
    hub = getattr(state, "alert_hub", None)
    if hub is not None:
        hub.close()
    listener = getattr(state, "listener", None)
    if listener is not None:
        await listener.stop()


SPEC = ServiceSpec(
    name="notify",
    route_handlers=[*ROUTES, *privacy.ROUTES],
    migrations=MigrationSet(schema="notify", package="services.notify"),
    consumers=[*CONSUMERS, privacy.CONFIRMATIONS],
    jobs=[*JOBS, privacy.RETENTION],
    settings_type=NotifySettings,
    on_startup=[start_delivery, start_live],
    on_shutdown=[stop_delivery, stop_live],
    description="Consent with proof, consented and stock-aware messages delivered by Web Push; staff pickup alerts.",
)


def create_app(settings: Settings, config: NotifySettings | None = None) -> Litestar:
    return build_app(SPEC, settings, config)
