"""Fixes from real clients go through presence exactly as /v1/pings and /v1/beacon-sightings do."""

from __future__ import annotations

from services.geo.clients import owntracks, waypoints
from services.geo.clients.background_geolocation import SdkSync, locations_of, ping_of
from services.geo.context import GeoContext
from services.geo.devices import service as devices
from services.geo.devices.schemas import IngestResult, PingIn

OwnTracksAnswer = list[waypoints.SetWaypoints]


async def owntracks_message(ctx: GeoContext, device_id: str, message: owntracks.Message | None) -> OwnTracksAnswer:
    """Ingest the app's message; answer the nearby store zones when they differ from what it was last sent."""
    if message is None:
        return []
    if isinstance(message, owntracks.Beacon):
        await devices.ingest(ctx, devices.Upload(device_id, sightings=[owntracks.sighting_of(message)]))
        return []
    ping = owntracks.ping_of(message)
    result = await devices.ingest(ctx, devices.Upload(device_id, pings=[ping]))
    if result.accepted == 0:  # refused (no consent) or unusable: nothing to tell the app
        return []
    return await _waypoints_if_changed(ctx, device_id, ping)


async def _waypoints_if_changed(ctx: GeoContext, device_id: str, ping: PingIn) -> OwnTracksAnswer:
    near = waypoints.nearby(ctx.zones.index.zones(), ping.lat, ping.lng)
    if not near:  # the app keeps the regions it has; none near is nothing new to say
        return []
    changed = await devices.swap_waypoints_digest(ctx, device_id, waypoints.digest(near))
    return [waypoints.command(near)] if changed else []


async def sdk_sync(ctx: GeoContext, device_id: str, sync: SdkSync) -> IngestResult:
    pings = [ping_of(location) for location in locations_of(sync)]
    return await devices.ingest(ctx, devices.Upload(device_id, pings=pings))
