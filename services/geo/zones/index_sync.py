"""Turning stored zone rows into indexed zones, and keeping every process's index current."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg

from services.geo.zones import geometry
from services.geo.zones import repository as repo
from services.geo.zones.zone_index import Zone, ZoneIndex, ZoneKey
from shared.db import UNAVAILABLE, Database
from shared.listener import Listener

log = logging.getLogger("accueil.geo.zones")


def shape_of(stored: dict[str, Any]) -> geometry.Shape:
    if "circle" in stored:
        c = stored["circle"]
        return geometry.circle(c["lat"], c["lng"], c["radius_m"])
    return geometry.polygon(stored["polygon"])


def zone_of(row: asyncpg.Record) -> Zone:
    return Zone(
        store_id=row["store_id"],
        zone_id=row["zone_id"],
        kind=row["kind"],
        shape=shape_of(row["shape"]),
        name=row["name"],
        dwell_s=row["dwell_s"],
    )


class ZoneIndexSync:
    """Keeps this process's zone index current: every zone is loaded once the LISTEN geo_zones
    connection is up (listening first, so no change between the load and the listening is missed),
    then each announced change is applied, in order. After a lost connection everything is reloaded:
    changes may have been missed meanwhile."""

    def __init__(self, db: Database) -> None:
        self.index = ZoneIndex()
        self.beacons: dict[str, ZoneKey] = {}  # beacon identity -> the zone it marks
        self._db = db
        self._changes: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._listener = Listener(
            db.dsn, {repo.ZONES_CHANNEL: self._on_notify}, on_connect=[self._reload_all], name="geo-zone-sync"
        )
        self._applier: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listener.start()
        await self._listener.connected.wait()
        self._applier = asyncio.create_task(self._apply_changes(), name="geo-zone-apply")

    async def stop(self) -> None:
        await self._listener.stop()
        if self._applier is not None:
            self._applier.cancel()
            await asyncio.gather(self._applier, return_exceptions=True)

    async def _reload_all(self) -> None:
        async with self._db.transaction(readonly=True) as conn:
            rows = await repo.all_zones(conn)
            beacons = await repo.all_beacons(conn)
        self.index = ZoneIndex(zone_of(r) for r in rows)
        self.beacons = {b["identity"]: (b["store_id"], b["zone_id"]) for b in beacons}
        log.info("zone index loaded: %d zones, %d beacons", len(self.index), len(self.beacons))

    async def reload_zone(self, store_id: str, zone_id: str) -> None:
        """One zone changed (or only beacons, when the zone id is empty); beacons follow their zone.

        The index takes the change while the zone's row is locked, as a deletion in this process holds
        it while it drops the zone: read unlocked, a put announced earlier could read the row just
        before a deletion here and put the zone back after it, and pings would enter a deleted zone
        until the deletion's own announcement came through."""
        async with self._db.transaction() as conn:
            row = await repo.get_zone(conn, store_id, zone_id, lock=True) if zone_id else None
            beacons = await repo.all_beacons(conn)
            if zone_id:
                if row is None:
                    self.index.remove((store_id, zone_id))
                else:
                    self.index.put(zone_of(row))
            self.beacons = {b["identity"]: (b["store_id"], b["zone_id"]) for b in beacons}

    def _on_notify(self, payload: str) -> None:
        store_id, _, zone_id = payload.partition("\n")
        self._changes.put_nowait((store_id, zone_id))

    async def _apply_changes(self) -> None:
        """One at a time, in the order announced: a later change never loses to an earlier one."""
        while True:
            store_id, zone_id = await self._changes.get()
            try:
                await self.reload_zone(store_id, zone_id)
            except UNAVAILABLE as exc:
                log.info("zone %s/%s not reloaded (%s): the reload after reconnecting will", store_id, zone_id, exc)
