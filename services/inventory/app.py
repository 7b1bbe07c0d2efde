"""inventory: live stock per store and SKU, reservations, pickup orders, alternatives."""

from __future__ import annotations

from litestar import Litestar

from services.inventory.routes import ROUTES
from shared.app import ServiceSpec, build_app
from shared.migrations import MigrationSet
from shared.settings import Settings

SPEC = ServiceSpec(
    name="inventory",
    route_handlers=ROUTES,
    migrations=MigrationSet(schema="inventory", package="services.inventory"),
    description="Live stock per store and SKU, reservations that never oversell, in-stock alternatives.",
)


def create_app(settings: Settings) -> Litestar:
    return build_app(SPEC, settings)
