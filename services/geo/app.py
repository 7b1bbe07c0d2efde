"""geo: location pings and beacon sightings become store-zone events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from services.geo import privacy
from services.geo.consumers import CONSUMERS
from services.geo.context import GeoContext
from services.geo.group_commit import GroupCommit
from services.geo.ingest import ingest_group
from services.geo.jobs import JOBS
from services.geo.routes import ROUTES
from services.geo.settings import GeoSettings
from services.geo.zones import ZoneIndexSync
from shared.app import ServiceSpec, build_app
from shared.context import Context
from shared.migrations import MigrationSet
from shared.settings import Settings


@asynccontextmanager
async def geo_context(base: Context, config: GeoSettings) -> AsyncIterator[GeoContext]:
    zones = ZoneIndexSync(base.db)
    await zones.start()
    try:
        # The group writer reaches the context it belongs to when it first runs, after it is built.
        ctx = GeoContext(
            **base.parts(),
            config=config,
            zones=zones,
            uploads=GroupCommit(lambda uploads: ingest_group(ctx, uploads), key=lambda u: u.device_id),
        )
        yield ctx
    finally:
        await zones.stop()


SPEC = ServiceSpec(
    name="geo",
    route_handlers=[*ROUTES, *privacy.ROUTES],
    migrations=MigrationSet(schema="geo", package="services.geo"),
    consumers=[*CONSUMERS, privacy.ERASURE],
    jobs=[*JOBS, privacy.RETENTION],
    settings_type=GeoSettings,
    context=geo_context,
    description="Pings and beacon sightings in, once-per-visit zone and trip events out.",
)


def create_app(settings: Settings, config: GeoSettings | None = None) -> Litestar:
    return build_app(SPEC, settings, config)
