"""Turning stored zone rows into indexed zones, and keeping every process's index current."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg

from services.geo import geometry
from services.geo import repository as repo
from services.geo.zone_index import Zone, ZoneIndex, ZoneKey
from shared.db import UNAVAILABLE, connect

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
    """Loads every zone at start-up, then applies each change announced on LISTEN geo_zones.

    When the listening connection drops (a database restart), the whole index is reloaded on
    reconnection, since changes may have been missed meanwhile.
    """

    def __init__(self, pool: asyncpg.Pool, dsn: str) -> None:
        self.index = ZoneIndex()
        self.beacons: dict[str, ZoneKey] = {}  # beacon identity -> the zone it marks
        self._pool = pool
        self._dsn = dsn
        self._task: asyncio.Task[None] | None = None
        self._changes: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    async def start(self) -> None:
        await self._reload_all()
        self._task = asyncio.create_task(self._listen(), name="geo-zone-sync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _reload_all(self) -> None:
        async with self._pool.acquire() as conn:
            rows = await repo.all_zones(conn)
            beacons = await repo.all_beacons(conn)
        self.index = ZoneIndex(zone_of(r) for r in rows)
        self.beacons = {b["identity"]: (b["store_id"], b["zone_id"]) for b in beacons}
        log.info("zone index loaded: %d zones, %d beacons", len(self.index), len(self.beacons))

    async def reload_zone(self, store_id: str, zone_id: str) -> None:
        """One zone changed (or only beacons, when both ids are empty); beacons follow their zone."""
        async with self._pool.acquire() as conn:
            row = await repo.get_zone(conn, store_id, zone_id) if zone_id else None
            beacons = await repo.all_beacons(conn)
        if zone_id:
            if row is None:
                self.index.remove((store_id, zone_id))
            else:
                self.index.put(zone_of(row))
        self.beacons = {b["identity"]: (b["store_id"], b["zone_id"]) for b in beacons}

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        store_id, _, zone_id = payload.partition("\n")
        self._changes.put_nowait((store_id, zone_id))

    async def _listen(self) -> None:
        first = True
        while True:
            conn = None
            try:
                conn = await connect(self._dsn)
                await conn.add_listener(repo.ZONES_CHANNEL, self._on_notify)
                if not first:
                    await self._reload_all()
                first = False
                while not conn.is_closed():
                    try:
                        store_id, zone_id = await asyncio.wait_for(self._changes.get(), timeout=1)
                    except TimeoutError:
                        continue
                    await self.reload_zone(store_id, zone_id)
            except UNAVAILABLE as exc:
                log.info("zone listener lost its connection (%s); reconnecting", exc)
            finally:
                if conn is not None and not conn.is_closed():
                    await conn.close(timeout=2)
            await asyncio.sleep(1)
