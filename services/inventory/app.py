"""inventory: live stock per store and SKU, reservations, pickup orders, alternatives."""

from __future__ import annotations

from litestar import Litestar

from services.inventory import privacy
from services.inventory.context import inventory_context
from services.inventory.jobs import JOBS
from services.inventory.routes import ROUTES
from services.inventory.settings import InventorySettings
from shared.app import ServiceSpec, build_app
from shared.migrations import MigrationSet
from shared.settings import Settings

SPEC = ServiceSpec(
    name="inventory",
    route_handlers=[*ROUTES, *privacy.ROUTES],
    migrations=MigrationSet(schema="inventory", package="services.inventory"),
    consumers=[privacy.ERASURE],
    jobs=[*JOBS, privacy.RETENTION],
    settings_type=InventorySettings,
    context=inventory_context,
    description="Live stock per store and SKU, reservations that never oversell, pickup orders, in-stock alternatives.",
)


def create_app(settings: Settings, config: InventorySettings | None = None) -> Litestar:
    return build_app(SPEC, settings, config)
