"""Zone shapes: circles on the sphere and GeoJSON polygons, validated, with exact point tests. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import shapely
import shapely.geometry
import shapely.ops
from shapely.geometry import Polygon
from shapely.validation import explain_validity

from shared.errors import Invalid
from shared.geodesy import EARTH_RADIUS_M, destination

MAX_RADIUS_M = 10_000.0
MAX_EXTENT_M = 20_000.0
CIRCLE_VERTICES = 64


def _metres_per_degree(lat: float) -> tuple[float, float]:
    """Local scale (metres per degree of lat, of lng): exact enough over a store-sized area."""
    per_lat = math.pi * EARTH_RADIUS_M / 180
    return per_lat, per_lat * max(math.cos(math.radians(lat)), 1e-6)


@dataclass(frozen=True)
class Shape:
    """A zone's area. `polygon` is in (lng, lat) degrees; circles also keep their centre for exact tests."""

    polygon: Polygon
    center: tuple[float, float] | None = None  # (lat, lng) of a circle
    radius_m: float | None = None
    geojson: dict[str, Any] = field(default_factory=dict, compare=False)  # a polygon's, as given

    def __post_init__(self) -> None:
        if self.center is None:  # a circle's point tests use its centre: no shapely index to pay for
            shapely.prepare(self.polygon)

    @property
    def is_circle(self) -> bool:
        return self.center is not None

    @cached_property
    def circle_terms(self) -> tuple[float, float, float, float, float]:
        """(lat0, lng0, metres per degree of lat, of lng, radius²): a circle test in a few multiplications.
        Over a zone's few hundred metres the local flat-earth distance differs from the great-circle one
        by millimetres, and every test of a circle uses this same formula, so they all agree."""
        assert self.center is not None and self.radius_m is not None
        per_lat, per_lng = _metres_per_degree(self.center[0])
        return (self.center[0], self.center[1], per_lat, per_lng, self.radius_m**2)

    def _centre_distance_m(self, lat: float, lng: float) -> float:
        lat0, lng0, per_lat, per_lng, _ = self.circle_terms
        return math.hypot((lat - lat0) * per_lat, (lng - lng0) * per_lng)

    @cached_property
    def half_planes(self) -> tuple[tuple[float, float, float], ...] | None:
        """A convex polygon without holes as half-planes a*lng + b*lat + c >= 0 (inside): testing a point
        is then a few multiplications. None for circles and other polygons (tested with shapely)."""
        polygon = self.polygon
        if self.is_circle or polygon.interiors or not polygon.equals(polygon.convex_hull):
            return None
        ring = shapely.geometry.polygon.orient(polygon, sign=1.0).exterior.coords  # counter-clockwise
        return tuple(
            (-(y2 - y1), x2 - x1, (y2 - y1) * x1 - (x2 - x1) * y1)
            for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:], strict=True)
            if (x1, y1) != (x2, y2)
        )

    def contains(self, lat: float, lng: float) -> bool:
        if self.radius_m is not None:
            return self._centre_distance_m(lat, lng) <= self.radius_m
        if (planes := self.half_planes) is not None:
            return all(a * lng + b * lat + c >= 0 for a, b, c in planes)
        return bool(shapely.contains_xy(self.polygon, lng, lat))

    def edge_distance_m(self, lat: float, lng: float) -> float:
        """Distance to the boundary, metres: positive inside, negative outside."""
        if self.radius_m is not None:
            return self.radius_m - self._centre_distance_m(lat, lng)
        per_lat, per_lng = _metres_per_degree(lat)
        point = shapely.Point(lng, lat)
        nearest = shapely.ops.nearest_points(self.polygon.boundary, point)[0]
        d = math.hypot((nearest.x - lng) * per_lng, (nearest.y - lat) * per_lat)
        return d if self.contains(lat, lng) else -d

    @property
    def size_m(self) -> float:
        """A characteristic size (the smaller side of the bounding box, or the diameter)."""
        if self.radius_m is not None:
            return 2 * self.radius_m
        minx, miny, maxx, maxy = self.polygon.bounds
        per_lat, per_lng = _metres_per_degree((miny + maxy) / 2)
        return min((maxx - minx) * per_lng, (maxy - miny) * per_lat)


def circle(lat: float, lng: float, radius_m: float) -> Shape:
    if not (math.isfinite(radius_m) and radius_m > 0):
        raise Invalid("circle.radius_m must be a positive number of metres", field="circle.radius_m")
    if radius_m > MAX_RADIUS_M:
        raise Invalid(f"circle.radius_m must be at most {MAX_RADIUS_M:.0f} m", field="circle.radius_m")
    ring = [destination(lat, lng, 360 * i / CIRCLE_VERTICES, radius_m) for i in range(CIRCLE_VERTICES)]
    lngs = [p_lng for _, p_lng in ring]
    reaches_pole = abs(lat) + radius_m / _metres_per_degree(lat)[0] >= 90
    if reaches_pole or max(lngs) - min(lngs) > 180:  # wrapped round the 180th meridian
        raise Invalid("a circle may not cross the 180th meridian or cover a pole", field="circle")
    polygon = Polygon([(p_lng, p_lat) for p_lat, p_lng in ring])
    # No GeoJSON kept: a circle is stored and answered as its centre and radius, and 64 vertices as
    # Python lists would weigh more than the rest of the zone in the index.
    return Shape(polygon=polygon, center=(lat, lng), radius_m=radius_m)


def _ring(raw: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(raw, list) or len(raw) < 4:
        raise Invalid(f"{where} needs at least 4 positions (a closed ring)", field=where)
    ring = []
    for i, pos in enumerate(raw):
        if (
            not isinstance(pos, list)
            or len(pos) < 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos[:2])
        ):
            raise Invalid(f"{where}[{i}] must be [lng, lat]", field=f"{where}[{i}]")
        lng, lat = float(pos[0]), float(pos[1])
        if not (math.isfinite(lng) and -180 <= lng <= 180 and math.isfinite(lat) and -90 <= lat <= 90):
            raise Invalid(f"{where}[{i}] is out of range: [lng, lat] in degrees", field=f"{where}[{i}]")
        ring.append((lng, lat))
    if ring[0] != ring[-1]:
        raise Invalid(f"{where} must be closed: first and last positions equal", field=where)
    if len(set(ring)) < 3:
        raise Invalid(f"{where} needs at least 3 distinct positions", field=where)
    return ring


def polygon(geojson: Any) -> Shape:
    if not isinstance(geojson, dict) or geojson.get("type") != "Polygon":
        raise Invalid('polygon must be a GeoJSON object with "type": "Polygon"', field="polygon.type")
    rings = geojson.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise Invalid("polygon.coordinates must be a list of rings", field="polygon.coordinates")
    shell = _ring(rings[0], "polygon.coordinates[0]")
    holes = [_ring(r, f"polygon.coordinates[{i}]") for i, r in enumerate(rings[1:], start=1)]
    shape = Polygon(shell, holes)
    if not shape.is_valid:
        raise Invalid(f"polygon is not a valid area: {explain_validity(shape)}", field="polygon")
    minx, miny, maxx, maxy = shape.bounds
    per_lat, per_lng = _metres_per_degree((miny + maxy) / 2)
    if max((maxx - minx) * per_lng, (maxy - miny) * per_lat) > MAX_EXTENT_M:
        raise Invalid(f"polygon spans more than {MAX_EXTENT_M / 1000:.0f} km", field="polygon")
    coordinates = [[list(p) for p in ring] for ring in [shell, *holes]]
    return Shape(polygon=shape, geojson={"type": "Polygon", "coordinates": coordinates})
