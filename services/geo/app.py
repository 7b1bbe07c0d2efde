"""geo: location pings and beacon sightings become store-zone events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from services.geo.clients import routes as clients_routes
from services.geo.context import GeoContext
from services.geo.devices import consumers as devices_consumers
from services.geo.devices import jobs as devices_jobs
from services.geo.devices import routes as devices_routes
from services.geo.devices.ingest_front import IngestFront
from services.geo.devices.service import ingest_group
from services.geo.devices.trips import consumers as trips_consumers
from services.geo.devices.trips import jobs as trips_jobs
from services.geo.devices.trips import routes as trips_routes
from services.geo.privacy import jobs as privacy_jobs
from services.geo.privacy import routes as privacy_routes
from services.geo.privacy import service as privacy_service
from services.geo.settings import GeoSettings
from services.geo.stores import routes as stores_routes
from services.geo.zones.index_sync import ZoneIndexSync
from shared.app import ServiceApp, ServiceSpec, build_app
from shared.context import Context
from shared.group_commit import GroupCommit
from shared.migrations import MigrationSet
from shared.settings import Settings


@asynccontextmanager
async def geo_context(base: Context, config: GeoSettings) -> AsyncIterator[GeoContext]:
    zone_sync = ZoneIndexSync(base.db)
    await zone_sync.start()
    try:
        # The group writer reaches the context it belongs to when it first runs, after it is built.
        ctx = GeoContext(
            **base.parts(),
            config=config,
            zones=zone_sync,
            uploads=GroupCommit(lambda uploads: ingest_group(ctx, uploads), key=lambda u: u.device_id),
        )
        # Before the first ping is accepted: a fresh install, or one whose maintenance job has not run
        # for hours, has a partition for every hour a ping may be stamped with.
        await privacy_jobs.create_ping_partitions(ctx, datetime.now(UTC))
        yield ctx
    finally:
        await zone_sync.stop()


SPEC = ServiceSpec(
    name="geo",
    route_handlers=[
        *stores_routes.ROUTES,
        *devices_routes.ROUTES,
        *trips_routes.ROUTES,
        *privacy_routes.ROUTES,
        *clients_routes.ROUTES,
    ],
    migrations=MigrationSet(schema="geo", package="services.geo"),
    consumers=[*devices_consumers.CONSUMERS, *trips_consumers.CONSUMERS, *privacy_service.CONSUMERS],
    jobs=[*devices_jobs.JOBS, *trips_jobs.JOBS, *privacy_jobs.JOBS],
    settings_type=GeoSettings,
    context=geo_context,
    description="Pings and beacon sightings in, once-per-visit zone and trip events out.",
    generic_plans=True,
    front=IngestFront,
)


def create_app(settings: Settings, config: GeoSettings | None = None) -> ServiceApp:
    return build_app(SPEC, settings, config)
