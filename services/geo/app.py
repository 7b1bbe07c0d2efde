"""geo: location pings and beacon sightings become store-zone events."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State

from services.geo import privacy
from services.geo.consumers import CONSUMERS
from services.geo.jobs import JOBS
from services.geo.routes import ROUTES
from services.geo.settings import GeoSettings
from services.geo.zones import ZoneIndexSync
from shared.app import ServiceSpec, build_app
from shared.migrations import MigrationSet
from shared.settings import Settings


async def start_zone_index(state: State) -> None:
    state.zones = ZoneIndexSync(state.pool, state.settings.database_url)
    await state.zones.start()


async def stop_zone_index(state: State) -> None:
    zones = getattr(state, "zones", None)
    if zones is not None:
        await zones.stop()


SPEC = ServiceSpec(
    name="geo",
    route_handlers=[*ROUTES, *privacy.ROUTES],
    migrations=MigrationSet(schema="geo", package="services.geo"),
    consumers=[*CONSUMERS, privacy.ERASURE],
    jobs=[*JOBS, privacy.RETENTION],
    settings_type=GeoSettings,
    on_startup=[start_zone_index],
    on_shutdown=[stop_zone_index],
    description="Pings and beacon sightings in, once-per-visit zone and trip events out.",
)


def create_app(settings: Settings, config: GeoSettings | None = None) -> Litestar:
    return build_app(SPEC, settings, config)
