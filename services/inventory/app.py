"""inventory: live stock per store and SKU, reservations, pickup orders, alternatives."""

from __future__ import annotations

from services.inventory.catalog.routes import ROUTES as CATALOG_ROUTES
from services.inventory.context import inventory_context
from services.inventory.orders.jobs import JOBS as ORDER_JOBS
from services.inventory.orders.routes import ROUTES as ORDER_ROUTES
from services.inventory.privacy.consumers import ERASURE
from services.inventory.privacy.jobs import JOBS as PRIVACY_JOBS
from services.inventory.privacy.routes import ROUTES as PRIVACY_ROUTES
from services.inventory.settings import InventorySettings
from services.inventory.stock.routes import ROUTES as STOCK_ROUTES
from shared.app import ServiceApp, ServiceSpec, build_app
from shared.migrations import MigrationSet
from shared.settings import Settings

SPEC = ServiceSpec(
    name="inventory",
    route_handlers=[*CATALOG_ROUTES, *STOCK_ROUTES, *ORDER_ROUTES, *PRIVACY_ROUTES],
    migrations=MigrationSet(schema="inventory", package="services.inventory"),
    consumers=[ERASURE],
    jobs=[*ORDER_JOBS, *PRIVACY_JOBS],
    settings_type=InventorySettings,
    context=inventory_context,
    description="Live stock per store and SKU, reservations that never oversell, pickup orders, in-stock alternatives.",
)


def create_app(settings: Settings, config: InventorySettings | None = None) -> ServiceApp:
    return build_app(SPEC, settings, config)
