"""Where is a point? An in-memory H3 index of zones, never a database query per ping. Pure.

Each zone is covered with H3 cells at RESOLUTION. A cell wholly inside the zone answers at once;
a cell on the boundary keeps the zone as a candidate for an exact test (haversine for circles,
prepared shapely geometry for polygons). Resolution 11 (cells ~29 m across the edge) suits zones of
20-200 m: coarser resolutions have no interior cells for small zones, finer ones only grow the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import h3
from h3.api import basic_int as h3i
from shapely import contains_xy

from services.geo.zones.geometry import Shape

RESOLUTION = 11
latlng_to_cell = h3i.latlng_to_cell

ZoneKey = tuple[str, str]  # (store_id, zone_id)


@dataclass(frozen=True)
class Zone:
    store_id: str
    zone_id: str
    kind: str
    shape: Shape
    name: str | None = None
    dwell_s: int | None = None

    @property
    def key(self) -> ZoneKey:
        return (self.store_id, self.zone_id)


class _Cell:
    """Zones wholly covering the cell, and exact tests for zones crossing it. Circle tests are
    (zone, lat0, lng0, m per degree lat, m per degree lng, radius²); polygon tests carry the bounding
    box so most misses cost four comparisons, not a shapely call."""

    __slots__ = ("inside", "circles", "polygons")

    def __init__(self) -> None:
        self.inside: tuple[Zone, ...] = ()
        self.circles: tuple[tuple[Zone, float, float, float, float, float], ...] = ()
        self.polygons: tuple[tuple[Zone, float, float, float, float, tuple | None], ...] = ()

    def empty(self) -> bool:
        return not (self.inside or self.circles or self.polygons)

    def without(self, key: ZoneKey) -> None:
        self.inside = tuple(z for z in self.inside if z.key != key)
        self.circles = tuple(t for t in self.circles if t[0].key != key)
        self.polygons = tuple(t for t in self.polygons if t[0].key != key)


def cover(shape: Shape, resolution: int = RESOLUTION) -> tuple[set[int], set[int]]:
    """(cells wholly inside, cells crossing the boundary) of a shape."""
    h3shape = h3.geo_to_h3shape(shape.polygon.__geo_interface__)
    touching = set(h3i.h3shape_to_cells_experimental(h3shape, resolution, contain="overlap"))
    inside = set(h3i.h3shape_to_cells_experimental(h3shape, resolution, contain="full"))
    return inside, touching - inside


class ZoneIndex:
    def __init__(self, zones: Iterable[Zone] = (), resolution: int = RESOLUTION) -> None:
        self.resolution = resolution
        self._cells: dict[int, _Cell] = {}
        self._zones: dict[ZoneKey, Zone] = {}
        self._cells_of: dict[ZoneKey, tuple[set[int], set[int]]] = {}
        self._by_store: dict[str, dict[str, Zone]] = {}
        for zone in zones:
            self.put(zone)

    def __len__(self) -> int:
        return len(self._zones)

    def get(self, key: ZoneKey) -> Zone | None:
        return self._zones.get(key)

    def zones(self) -> list[Zone]:
        return list(self._zones.values())

    def zones_of_store(self, store_id: str) -> list[Zone]:
        return sorted(self._by_store.get(store_id, {}).values(), key=lambda z: z.zone_id)

    def put(self, zone: Zone) -> None:
        """Add a zone, or replace the one with the same key."""
        self.remove(zone.key)
        inside, boundary = cover(zone.shape, self.resolution)
        for cell in inside:
            entry = self._cells.setdefault(cell, _Cell())
            entry.inside += (zone,)
        shape = zone.shape
        for cell in boundary:
            entry = self._cells.setdefault(cell, _Cell())
            if shape.is_circle:
                entry.circles += ((zone, *shape.circle_terms),)
            else:
                entry.polygons += ((zone, *shape.polygon.bounds, shape.half_planes),)
        self._zones[zone.key] = zone
        self._cells_of[zone.key] = (inside, boundary)
        self._by_store.setdefault(zone.store_id, {})[zone.zone_id] = zone

    def remove(self, key: ZoneKey) -> Zone | None:
        zone = self._zones.pop(key, None)
        if zone is None:
            return None
        inside, boundary = self._cells_of.pop(key)
        del self._by_store[zone.store_id][zone.zone_id]
        for cell in inside | boundary:
            entry = self._cells[cell]
            entry.without(key)
            if entry.empty():
                del self._cells[cell]
        return zone

    def zones_at(self, lat: float, lng: float) -> Sequence[Zone]:
        """Every zone containing the point. The hot path: kept to plain arithmetic where it can be."""
        entry = self._cells.get(latlng_to_cell(lat, lng, self.resolution))
        if entry is None:
            return ()
        if not entry.circles and not entry.polygons:
            return entry.inside
        found = list(entry.inside)
        for zone, lat0, lng0, per_lat, per_lng, r2 in entry.circles:
            dy, dx = (lat - lat0) * per_lat, (lng - lng0) * per_lng
            if dx * dx + dy * dy <= r2:
                found.append(zone)
        for zone, minx, miny, maxx, maxy, planes in entry.polygons:
            if not (minx <= lng <= maxx and miny <= lat <= maxy):
                continue
            if planes is None:
                if contains_xy(zone.shape.polygon, lng, lat):
                    found.append(zone)
                continue
            for a, b, c in planes:  # a loop, not all(<generator>): half the cost on this path
                if a * lng + b * lat + c < 0:
                    break
            else:
                found.append(zone)
        return found
