"""What geo keeps about a device, for how long; its export; its erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from litestar import get
from litestar.params import FromPath

from services.geo import repository as repo
from services.geo.context import GeoContext
from shared import erasure
from shared.auth import Caller
from shared.bus import Consumer
from shared.context import FromContext
from shared.db import Conn
from shared.events import ErasureRequested
from shared.jobs import Job
from shared.wire import check_id


def collection(config: Any) -> list[dict[str, Any]]:
    """geo's part of the privacy notice, from the running configuration."""
    return [
        {
            "data": "location_pings",
            "purpose": "location",
            "what": {
                "en": "positions sent by the app (latitude, longitude, accuracy, time), and beacon sightings",
                "fr": "positions envoyées par l'application (latitude, longitude, précision, heure), et balises vues",
            },
            "kept": {"unit": "hours", "value": config.ping_retention_hours},
        },
        {
            "data": "visits",
            "purpose": "location",
            "what": {
                "en": "which store zones you entered and left, and when (no coordinates)",
                "fr": "les zones de magasin où vous êtes entré et sorti, et quand (sans coordonnées)",
            },
            "kept": {"unit": "days", "value": config.history_days},
        },
        {
            "data": "pickup_trips",
            "purpose": "pickup_updates",
            "what": {
                "en": "your trips to collect an order: status, times, distance and ETA while under way",
                "fr": "vos trajets pour retirer une commande : état, heures, distance et durée estimée en route",
            },
            "kept": {"unit": "days", "value": config.history_days},
        },
    ]


@get("/v1/devices/{device_id:str}/data")
async def device_data(device_id: FromPath[str], conn: Conn, principal: Caller) -> dict[str, Any]:
    """Everything geo holds about the device (the shopper's export gathers it through notify)."""
    check_id(device_id, "device_id")
    principal.require_device(device_id)
    consent = await repo.location_consent_of(conn, device_id)
    return {
        "location_consent": dict(consent) if consent else None,
        "pings": [dict(r) for r in await repo.pings_of(conn, device_id)],
        "current_visits": [dict(r) for r in await repo.open_visits(conn, device_id)],
        "visit_history": [dict(r) for r in await repo.visit_log_of(conn, device_id)],
        "trips": [dict(r) for r in await repo.trips_of_device(conn, device_id)],
    }


@get("/v1/privacy", exclude_from_auth=True)
async def privacy(ctx: FromContext[GeoContext]) -> dict[str, Any]:
    return {"service": "geo", "collects": collection(ctx.config)}


async def erase(conn: asyncpg.Connection, event: ErasureRequested, ctx: GeoContext) -> None:
    """notify asked for a device's erasure: delete everything geo holds, then say so on the bus."""
    if event.device_id is not None:
        await repo.erase_device(conn, event.device_id)
    await erasure.confirm(conn, ctx.service, event.data.erasure_id, datetime.now(UTC))


ERASURE = Consumer(name="geo.erasure", types=(ErasureRequested,), handle=erase)


async def enforce_retention(ctx: GeoContext, now: datetime) -> int:
    config = ctx.config
    async with ctx.db.transaction() as conn:
        changed = await repo.forget_idle_positions(conn, now - timedelta(hours=config.ping_retention_hours))
        changed += await repo.coarsen_trips(conn, now - timedelta(hours=config.ping_retention_hours))
        changed += await repo.delete_history(conn, now - timedelta(days=config.history_days))
    return changed


RETENTION = Job("geo.history_retention", 3600, enforce_retention)

ROUTES = [device_data, privacy]
