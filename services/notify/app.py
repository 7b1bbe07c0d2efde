"""notify: consent per purpose, consented and stock-aware messages, pickup alerts for staff."""

from __future__ import annotations

from litestar import Litestar

from services.notify.consumers import CONSUMERS
from services.notify.routes import ROUTES
from shared.app import ServiceSpec, build_app
from shared.migrations import MigrationSet
from shared.settings import Settings

SPEC = ServiceSpec(
    name="notify",
    route_handlers=ROUTES,
    migrations=MigrationSet(schema="notify", package="services.notify"),
    consumers=CONSUMERS,
    description="Consent with proof, consented and stock-aware messages, pickup alerts for staff.",
)


def create_app(settings: Settings) -> Litestar:
    return build_app(SPEC, settings)
