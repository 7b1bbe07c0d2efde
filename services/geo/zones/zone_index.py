"""Where is a point? An in-memory H3 index of zones, never a database query per ping. Pure.

Each zone is covered with H3 cells at RESOLUTION. A cell wholly inside the zone answers at once;
a cell on the boundary keeps the zone as a candidate for an exact test (the flat-earth distance for
circles, half-planes or prepared shapely geometry for polygons). Resolution 11 (cells ~29 m across
the edge) suits zones of 20-200 m: coarser resolutions have no interior cells for small zones,
finer ones only grow the table.

The cells live in compact arrays, not a Python object per cell (50,000 zones are about two million
(cell, zone) pairs): a sorted uint64 array of cells, the offsets of each cell's entries, and per entry
the zone's slot (int32) and whether the cell is on its boundary. One structure answers both a single
fix (`zones_at`) and a batch (`resolve_many`, numpy throughout). Arrays are costly to edit in place,
so a zone put at runtime goes to a small overlay layer of the same shape and a removed one is only
marked dead; both are merged into the base once they grow past an eighth of it (at least 1,024
entries, about twenty store zones): a merge costs a pass over the base, while a fix whose cell the
overlay covers pays a slower look-up until then, and a floor much higher would keep a network of a few
hundred zones put after start in the overlay for good.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import h3
import numpy as np
import numpy.typing as npt
import shapely
from h3.api import basic_int as h3i

# h3ronpy turns a whole array of coordinates into cells in one call (numpy in, Arrow out): a Python
# loop over h3's latlng_to_cell would cost the batch path more than all the rest of it.
from h3ronpy.vector import coordinates_to_cells

from services.geo.zones.geometry import Shape

RESOLUTION = 11
latlng_to_cell = h3i.latlng_to_cell

_Terms = tuple[float, float, float, float, Any]
"""A slot's exact test on the per-fix path: a circle's (lat0, lng0, per_lat, per_lng, radius²), or a
polygon's (minx, miny, maxx, maxy, half-planes or None: shapely tests it). The slot's test group says
which; the types cannot follow that, and telling them apart in the loop would cost a call per test."""

# Below this many pings a batch is answered fix by fix: numpy's fixed cost per call exceeds the loop's.
# Measured with half the pings near a zone: at 50 pings the batch path took 3.5 us a ping against 1.5
# fix by fix with 200 zones (3.6 against 2.8 with 5,000); they cross between 80 and 150 pings.
SMALL_BATCH = 100

ZoneKey = tuple[str, str]  # (store_id, zone_id)

# The order zones are answered in, within a cell: wholly covering first, then circles, then polygons
# to test, each in the order they were put.
_INSIDE, _CIRCLE, _POLYGON = 0, 1, 2


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


def cover(shape: Shape, resolution: int = RESOLUTION) -> tuple[set[int], set[int]]:
    """(cells wholly inside, cells crossing the boundary) of a shape."""
    h3shape = h3.geo_to_h3shape(shape.polygon.__geo_interface__)
    inside = set(h3i.h3shape_to_cells_experimental(h3shape, resolution, contain="full"))
    # h3's overlap cover of a polygon with holes misses cells that cross a hole's edge: the outer ring's
    # cover keeps every cell a point of the zone can fall in (those in a hole are tested exactly).
    outer = h3shape
    if shape.polygon.interiors:
        outer = h3.geo_to_h3shape(shapely.Polygon(shape.polygon.exterior).__geo_interface__)
    touching = set(h3i.h3shape_to_cells_experimental(outer, resolution, contain="overlap"))
    return inside, touching - inside


@dataclass(frozen=True)
class _Pairs:
    """One zone's entries, waiting in the overlay: its cells and, per cell, the answer group."""

    cells: np.ndarray  # uint64
    groups: np.ndarray  # int8: _INSIDE, or the zone's test group on boundary cells


_MULTIPLIER = 0x9E3779B97F4A7C15  # Fibonacci hashing: spreads H3's clustered bits over the table


class _Layer:
    """Cells sorted, each cell's entries contiguous and ordered by (group, slot); and an open-addressing
    hash table (linear probing, at most half full) from cell to its position, for look-ups. A binary
    search per ping (numpy's searchsorted) cost as much as the rest of a batch; the table answers most
    pings with one probe, and a single fix reads it through memoryviews, without a numpy call."""

    __slots__ = ("cells", "starts", "slots", "groups", "_keys", "_rows", "_shift", "_fix")

    def __init__(self, cells: np.ndarray, slots: np.ndarray, groups: np.ndarray) -> None:
        order = np.lexsort((slots, groups, cells))
        cells = cells[order]
        self.cells, first = np.unique(cells, return_index=True)
        self.starts = np.append(first, len(cells)).astype(np.int64)
        self.slots = slots[order].astype(np.int32)
        self.groups = groups[order].astype(np.int8)
        bits = max(3, (2 * len(self.cells)).bit_length())
        self._shift = 64 - bits
        self._keys = np.zeros(1 << bits, np.uint64)  # 0 is no H3 cell: an empty place
        self._rows = np.zeros(1 << bits, np.int32)
        rows = np.arange(len(self.cells))
        at = self._home(self.cells)
        while len(rows):
            free = self._keys[at] == 0
            # One winner per free place; the others, and those finding it taken, probe the next one.
            places, winner = np.unique(at[free], return_index=True)
            won = np.flatnonzero(free)[winner]
            self._keys[places], self._rows[places] = self.cells[rows[won]], rows[won]
            lost = np.ones(len(rows), bool)
            lost[won] = False
            rows, at = rows[lost], (at[lost] + 1) & (len(self._keys) - 1)
        mask = (1 << 64) - 1
        self._fix = (
            _view(self._keys, "Q"),
            _view(self._rows, "i"),
            _view(self.starts, "q"),
            _view(self.slots, "i"),
            _view(self.groups, "b"),
            mask,
        )

    def _home(self, cells: np.ndarray) -> np.ndarray:
        # Below 2**63 after the shift: read as int64 in place, no copy.
        return ((cells * np.uint64(_MULTIPLIER)) >> np.uint64(self._shift)).view(np.int64)

    def __len__(self) -> int:
        return len(self.slots)

    def entries(self, cell: int) -> tuple[list[int], list[int]]:
        """(slots, groups) of one cell."""
        keys, rows, starts, slots, groups, mask = self._fix
        at = ((cell * _MULTIPLIER) & mask) >> self._shift
        while (key := keys[at]) != cell:
            if key == 0:
                return [], []
            at = (at + 1) & (len(keys) - 1)
        row = rows[at]
        lo, hi = starts[row], starts[row + 1]
        return slots[lo:hi].tolist(), groups[lo:hi].tolist()

    def _rows_of(self, cells: np.ndarray) -> np.ndarray:
        """The position of each cell in `cells`, or -1."""
        at = self._home(cells)
        keys = self._keys[at]
        hit = keys == cells
        found = np.where(hit, self._rows[at], -1)
        more = ~hit & (keys != 0)  # the first probe, over every ping, without gathering them
        todo = np.flatnonzero(more)
        at = (at[todo] + 1) & (len(self._keys) - 1)
        while len(todo):
            keys = self._keys[at]
            hit = keys == cells[todo]
            found[todo[hit]] = self._rows[at[hit]]
            more = ~hit & (keys != 0)
            todo, at = todo[more], (at[more] + 1) & (len(self._keys) - 1)
        return found

    def pairs(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ping, slot, group) of every entry of every cell asked, in ping order then cell order."""
        at = self._rows_of(cells)
        pings = np.flatnonzero(at >= 0)
        at = at[pings]
        lo = self.starts[at]
        count = self.starts[at + 1] - lo
        ends = np.cumsum(count)
        positions = np.arange(ends[-1] if len(ends) else 0) + np.repeat(lo - ends + count, count)
        return np.repeat(pings, count), self.slots[positions], self.groups[positions]

    def all_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.repeat(self.cells, np.diff(self.starts)), self.slots, self.groups


def _view(array: np.ndarray, code: Literal["Q", "q", "i", "b"]) -> memoryview:
    """A native-format view of an array: a single fix reads Python ints from it, no numpy scalar."""
    return array.data.cast("B").cast(code)


class _Tests:
    """Per slot, the exact tests of boundary cells as numpy arrays: circle terms, polygon bounds, the
    half-planes of convex polygons (flat, with each slot's range) and the others' shapely geometry."""

    def __init__(self, zones: list[Zone], planes_before: int = 0) -> None:
        """`planes_before`: half-planes of the slots before these (when extending)."""
        n = len(zones)
        self.size = n
        self.circle = np.zeros((n, 5))  # lat0, lng0, per_lat, per_lng, radius²
        bounds = np.zeros((n, 4))
        self.plane_lo = np.zeros(n, np.int64)
        self.plane_n = np.zeros(n, np.int64)
        self.geometry = np.empty(n, object)
        planes: list[tuple[float, float, float]] = []
        for slot, zone in enumerate(zones):
            shape = zone.shape
            if shape.is_circle:
                self.circle[slot] = shape.circle_terms
                continue
            bounds[slot] = shape.polygon.bounds
            if shape.half_planes is None:
                self.geometry[slot] = shape.polygon
            else:
                self.plane_lo[slot], self.plane_n[slot] = planes_before + len(planes), len(shape.half_planes)
                planes.extend(shape.half_planes)
        # Columns apart (contiguous), as the tests gather them: minx, miny, maxx, maxy; a, b, c.
        self.bounds = tuple(np.ascontiguousarray(column) for column in bounds.T)
        self.planes = tuple(np.ascontiguousarray(column) for column in np.array(planes, float).reshape(-1, 3).T)

    def extended(self, zones: list[Zone]) -> _Tests:
        """These tests and those of `zones`, the slots that follow: between merges slots are only ever
        appended, so a zone put costs its own tests, not a rebuild over every zone."""
        more = _Tests(zones, planes_before=len(self.planes[0]))
        joined = copy.copy(self)
        joined.size = self.size + more.size
        joined.circle = np.concatenate([self.circle, more.circle])
        joined.plane_lo = np.concatenate([self.plane_lo, more.plane_lo])
        joined.plane_n = np.concatenate([self.plane_n, more.plane_n])
        joined.geometry = np.concatenate([self.geometry, more.geometry])
        joined.bounds = tuple(np.concatenate(pair) for pair in zip(self.bounds, more.bounds, strict=True))
        joined.planes = tuple(np.concatenate(pair) for pair in zip(self.planes, more.planes, strict=True))
        return joined


class _Near:
    """The squares of a coarse lat/lng grid that some zone's bounding box (and a margin) touches, each
    with how many zones touch it (kept as zones come and go: no rebuild over every zone). A ping in no
    such square is in no zone: it costs no H3 lookup. Every zone found for a point contains the point
    (a wholly covering cell lies inside its zone, a boundary cell's zone is tested exactly), so the
    answers are the same; the margin only absorbs the sub-metre difference between h3's geodesic cell
    edges and a zone's flat outline."""

    SQUARE_DEG = 0.002  # ~220 m of latitude: about a zone across, so few squares per zone
    MARGIN_DEG = 0.0005  # ~50 m

    def __init__(self) -> None:
        self.squares: dict[int, int] = {}  # square -> zones touching it; a single fix asks it directly
        self._sorted: np.ndarray | None = None  # the batch path's copy, rebuilt after a change

    @classmethod
    def square_of(cls, lat: float, lng: float) -> int:
        # |floor(lng / SQUARE_DEG)| <= 90,000 < 2**19: one integer per square, never two squares alike
        return math.floor(lat / cls.SQUARE_DEG) * (1 << 20) + math.floor(lng / cls.SQUARE_DEG)

    def _of_zone(self, zone: Zone) -> list[int]:
        minx, miny, maxx, maxy = zone.shape.polygon.bounds
        step, margin = self.SQUARE_DEG, self.MARGIN_DEG
        rows = range(math.floor((miny - margin) / step), math.floor((maxy + margin) / step) + 1)
        cols = range(math.floor((minx - margin) / step), math.floor((maxx + margin) / step) + 1)
        return [row * (1 << 20) + col for row in rows for col in cols]

    def add(self, zone: Zone) -> None:
        for square in self._of_zone(zone):
            self.squares[square] = self.squares.get(square, 0) + 1
        self._sorted = None

    def discard(self, zone: Zone) -> None:
        for square in self._of_zone(zone):
            if (left := self.squares[square] - 1) > 0:
                self.squares[square] = left
            else:
                del self.squares[square]
        self._sorted = None

    def of(self, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
        """The indices of the points in a touched square."""
        if self._sorted is None:
            self._sorted = np.sort(np.fromiter(self.squares, np.int64, len(self.squares)))
        keys = self._sorted
        if not len(keys):
            return np.empty(0, np.int64)
        wanted = np.floor(lats / self.SQUARE_DEG).astype(np.int64) * (1 << 20) + np.floor(
            lngs / self.SQUARE_DEG
        ).astype(np.int64)
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        return np.flatnonzero(keys[at] == wanted)


def _test_group(shape: Shape) -> int:
    return _CIRCLE if shape.is_circle else _POLYGON


class Resolved(Sequence[Sequence[Zone]]):
    """The zones of each ping of a batch, as offsets into one array of zone slots."""

    def __init__(self, starts: np.ndarray, slots: np.ndarray, zones: list[Zone]) -> None:
        self._starts, self._slots, self._zones = starts, slots, zones

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, i: int) -> tuple[Zone, ...]:  # type: ignore[override]
        if not 0 <= i < len(self):
            raise IndexError(i)
        zones = self._zones
        return tuple(zones[s] for s in self._slots[self._starts[i] : self._starts[i + 1]].tolist())

    def __iter__(self) -> Iterator[tuple[Zone, ...]]:
        return (self[i] for i in range(len(self)))

    def counts(self) -> np.ndarray:
        return np.diff(self._starts)


class ZoneIndex:
    def __init__(self, zones: Iterable[Zone] = (), resolution: int = RESOLUTION, merge_at: int = 1_024) -> None:
        """`merge_at`: overlay and dead entries (or an eighth of the base, if more) that trigger a merge."""
        self.resolution = resolution
        self._merge_at = merge_at
        self._by_store: dict[str, dict[str, Zone]] = {}
        self._slot_of: dict[ZoneKey, int] = {}
        # Append-only between merges: a slot's zone stays readable (a batch answered just before a
        # removal still names it), and its liveness is _slot_of's business.
        self._zones: list[Zone] = []
        self._terms: list[_Terms] = []  # per slot, the exact test of the per-fix path
        self._pending: dict[int, _Pairs] = {}  # the overlay's zones, by slot
        self._dead = 0  # base entries of removed or replaced zones (at least one each)
        self._sizes: list[int] = []  # per slot, its entries
        # Built when first needed after a change: the overlay's layer, and the batch path's arrays.
        self._overlay_layer: _Layer | None = None
        self._arrays: tuple[np.ndarray, _Tests] | None = None
        self._tests: _Tests | None = None  # the exact tests of slots 0..size-1, until the next merge
        self._near = _Near()
        self._base = _Layer(*self._concat([]))
        for zone in zones:  # staged in the overlay, which then becomes the base at once
            self.remove(zone.key)
            self._stage(zone)
        self._base = _Layer(*self._concat(self._pending.items()))
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._slot_of)

    @property
    def cells(self) -> int:
        """Distinct cells in the base layer."""
        return len(self._base.cells)

    def get(self, key: ZoneKey) -> Zone | None:
        slot = self._slot_of.get(key)
        return None if slot is None else self._zones[slot]

    def zones(self) -> list[Zone]:
        return [self._zones[s] for s in self._slot_of.values()]

    def zones_of_store(self, store_id: str) -> list[Zone]:
        return sorted(self._by_store.get(store_id, {}).values(), key=lambda z: z.zone_id)

    def put(self, zone: Zone) -> None:
        """Add a zone, or replace the one with the same key."""
        self.remove(zone.key)
        self._stage(zone)
        if self._overlay_size() + self._dead > max(self._merge_at, len(self._base) // 8):
            self._merge()

    def remove(self, key: ZoneKey) -> Zone | None:
        slot = self._slot_of.pop(key, None)
        if slot is None:
            return None
        zone = self._zones[slot]
        del self._by_store[zone.store_id][zone.zone_id]
        self._near.discard(zone)
        if self._pending.pop(slot, None) is None:
            self._dead += max(1, self._sizes[slot])
        self._overlay_layer = self._arrays = None
        return zone

    def _stage(self, zone: Zone) -> None:
        inside, boundary = cover(zone.shape, self.resolution)
        slot = len(self._zones)
        cells = np.fromiter([*inside, *boundary], np.uint64, len(inside) + len(boundary))
        groups = np.full(len(cells), _test_group(zone.shape), np.int8)
        groups[: len(inside)] = _INSIDE
        pairs = _Pairs(cells, groups)
        shape = zone.shape
        terms = shape.circle_terms if shape.is_circle else (*shape.polygon.bounds, shape.half_planes)
        self._zones.append(zone)
        self._terms.append(terms)
        self._sizes.append(len(cells))
        self._slot_of[zone.key] = slot
        self._by_store.setdefault(zone.store_id, {})[zone.zone_id] = zone
        self._near.add(zone)
        self._pending[slot] = pairs
        self._overlay_layer = self._arrays = None

    @staticmethod
    def _concat(staged: Iterable[tuple[int, _Pairs]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        staged = list(staged)
        cells = [p.cells for _, p in staged]
        slots = [np.full(len(p.cells), s, np.int32) for s, p in staged]
        groups = [p.groups for _, p in staged]
        if not staged:
            return np.empty(0, np.uint64), np.empty(0, np.int32), np.empty(0, np.int8)
        return np.concatenate(cells), np.concatenate(slots), np.concatenate(groups)

    def _overlay_size(self) -> int:
        return sum(len(p.cells) for p in self._pending.values())

    def _merge(self) -> None:
        """Fold the overlay into the base, drop removed zones' entries and renumber slots densely
        (in the same order, so answers keep their order)."""
        alive = self._alive()
        cells, slots, groups = self._base.all_pairs()
        keep = alive[slots]
        o_cells, o_slots, o_groups = self._concat(self._pending.items())
        renumber = np.cumsum(alive) - 1
        self._base = _Layer(
            np.concatenate([cells[keep], o_cells]),
            renumber[np.concatenate([slots[keep], o_slots])],
            np.concatenate([groups[keep], o_groups]),
        )
        live = np.flatnonzero(alive).tolist()
        self._zones = [self._zones[s] for s in live]
        self._terms = [self._terms[s] for s in live]
        self._sizes = [self._sizes[s] for s in live]
        self._slot_of = {z.key: s for s, z in enumerate(self._zones)}
        self._pending.clear()
        self._dead = 0
        self._overlay_layer = self._arrays = self._tests = None  # slots renumbered

    def _alive(self) -> np.ndarray:
        alive = np.zeros(len(self._zones), bool)
        alive[list(self._slot_of.values())] = True
        return alive

    def _overlay(self) -> _Layer:
        if self._overlay_layer is None:
            self._overlay_layer = _Layer(*self._concat(self._pending.items()))
        return self._overlay_layer

    def _derived(self) -> tuple[np.ndarray, _Tests]:
        """What the batch path derives from the zones (live slots, exact tests as arrays), brought up to
        date on the first batch after a change: the tests of the slots added since, appended."""
        if self._arrays is None:
            tests = self._tests
            if tests is None:
                tests = _Tests(self._zones)
            elif tests.size < len(self._zones):
                tests = tests.extended(self._zones[tests.size :])
            self._tests = tests
            self._arrays = (self._alive(), tests)
        return self._arrays

    def zones_at(self, lat: float, lng: float) -> Sequence[Zone]:
        """Every zone containing the point. The hot path: kept to plain arithmetic where it can be."""
        if _Near.square_of(lat, lng) not in self._near.squares:
            return ()  # far from every zone: no H3 lookup
        cell = latlng_to_cell(lat, lng, self.resolution)
        slots, groups = self._base.entries(cell)
        if self._pending or self._dead:
            slots, groups = self._live_entries(cell, slots, groups)
        if not slots:
            return ()
        zones, terms = self._zones, self._terms
        found = []
        for slot, group in zip(slots, groups, strict=True):
            if group == _INSIDE:
                found.append(zones[slot])
            elif group == _CIRCLE:
                lat0, lng0, per_lat, per_lng, r2 = terms[slot]
                dy, dx = (lat - lat0) * per_lat, (lng - lng0) * per_lng
                if dx * dx + dy * dy <= r2:
                    found.append(zones[slot])
            else:
                minx, miny, maxx, maxy, planes = terms[slot]
                if not (minx <= lng <= maxx and miny <= lat <= maxy):
                    continue
                if planes is None:
                    if shapely.contains_xy(zones[slot].shape.polygon, lng, lat):
                        found.append(zones[slot])
                    continue
                for a, b, c in planes:  # a loop, not all(<generator>): half the cost on this path
                    if a * lng + b * lat + c < 0:
                        break
                else:
                    found.append(zones[slot])
        return found

    def _live_entries(self, cell: int, slots: list[int], groups: list[int]) -> tuple[list[int], list[int]]:
        """The base's entries of a cell without removed zones, with the overlay's, in answer order."""
        o_slots, o_groups = self._overlay().entries(cell) if self._pending else ([], [])
        if not o_slots and not self._dead:
            return slots, groups  # every base entry is live, and the overlay adds none here
        zones, slot_of = self._zones, self._slot_of
        entries = [(g, s) for s, g in zip(slots, groups, strict=True) if slot_of.get(zones[s].key) == s]
        if o_slots:
            entries.extend(zip(o_groups, o_slots, strict=True))
            entries.sort()
        return [s for _, s in entries], [g for g, _ in entries]

    def resolve_many(
        self, lats: Sequence[float] | np.ndarray, lngs: Sequence[float] | np.ndarray
    ) -> Sequence[Sequence[Zone]]:
        """Every zone containing each point, as `zones_at` answers them one by one."""
        if len(lats) < SMALL_BATCH:
            return [self.zones_at(lat, lng) for lat, lng in zip(lats, lngs, strict=True)]
        lats = np.asarray(lats, dtype=float)
        lngs = np.asarray(lngs, dtype=float)
        alive, tests = self._derived()
        overlay = self._overlay()
        candidates = self._near.of(lats, lngs)
        cells = np.asarray(coordinates_to_cells(lats[candidates], lngs[candidates], self.resolution))
        ping, slot, group = self._base.pairs(cells)
        ping = candidates[ping]
        if len(overlay):
            o_ping, o_slot, o_group = overlay.pairs(cells)
            o_ping = candidates[o_ping]
            if len(o_ping):
                ping, slot, group = (
                    np.concatenate([ping, o_ping]),
                    np.concatenate([slot, o_slot]),
                    np.concatenate([group, o_group]),
                )
                order = np.lexsort((slot, group, ping))
                ping, slot, group = ping[order], slot[order], group[order]
        if self._dead:
            keep = alive[slot]
            ping, slot, group = ping[keep], slot[keep], group[keep]
        keep = group == _INSIDE
        for test_group, hits in ((_CIRCLE, _circle_hits), (_POLYGON, _polygon_hits)):
            at = np.flatnonzero(group == test_group)
            keep[at] = hits(tests, slot[at], lats[ping[at]], lngs[ping[at]])
        ping, slot = ping[keep], slot[keep]
        starts = np.zeros(len(lats) + 1, np.int64)
        np.cumsum(np.bincount(ping, minlength=len(lats)), out=starts[1:])
        return Resolved(starts, slot, self._zones)


# The exact tests of the batch path: the same arithmetic as `zones_at`'s, in the same order, so a
# point on an edge gets the same answer both ways.


def _circle_hits(
    tests: _Tests, slots: npt.NDArray[np.int32], lats: npt.NDArray[np.float64], lngs: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    terms = tests.circle[slots]
    dy = (lats - terms[:, 0]) * terms[:, 2]
    dx = (lngs - terms[:, 1]) * terms[:, 3]
    return dx * dx + dy * dy <= terms[:, 4]


def _polygon_hits(
    tests: _Tests, slots: npt.NDArray[np.int32], lats: npt.NDArray[np.float64], lngs: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    minx, miny, maxx, maxy = tests.bounds
    hits = (minx[slots] <= lngs) & (lngs <= maxx[slots]) & (miny[slots] <= lats) & (lats <= maxy[slots])
    boxed = np.flatnonzero(hits)
    s, y, x = slots[boxed], lats[boxed], lngs[boxed]
    n = tests.plane_n[s]
    # Convex polygons: every half-plane a*lng + b*lat + c >= 0; one dense block per count of planes.
    for planes in np.unique(n[n > 0]).tolist():
        these = np.flatnonzero(n == planes)
        rows = tests.plane_lo[s[these]][:, None] + np.arange(planes)
        a, b, c = tests.planes
        outside = a[rows] * x[these][:, None] + b[rows] * y[these][:, None] + c[rows] < 0
        hits[boxed[these]] = ~outside.any(axis=1)
    other = np.flatnonzero(n == 0)
    if len(other):
        hits[boxed[other]] = shapely.contains_xy(tests.geometry[s[other]], x[other], y[other])
    return hits
