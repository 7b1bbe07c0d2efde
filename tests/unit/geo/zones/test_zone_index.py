"""The H3 index must answer exactly what testing every zone would, fix by fix and in batches."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.geo.zones import geometry
from services.geo.zones.zone_index import SMALL_BATCH, Zone, ZoneIndex, ZoneKey
from shared.geodesy import destination

CENTRE = (48.8600, 2.3470)


def zones() -> list[Zone]:
    found = []
    for i in range(12):
        lat, lng = destination(*CENTRE, 30 * i, 25 * i)
        found.append(Zone("s1", f"c{i}", "department", geometry.circle(lat, lng, 20 + 15 * i)))
    square = geometry.polygon(
        {
            "type": "Polygon",
            "coordinates": [
                [[2.3460, 48.8595], [2.3480, 48.8595], [2.3480, 48.8605], [2.3460, 48.8605], [2.3460, 48.8595]],
                [[2.3468, 48.8599], [2.3472, 48.8599], [2.3472, 48.8601], [2.3468, 48.8601], [2.3468, 48.8599]],
            ],
        }
    )
    found.append(Zone("s1", "square-with-hole", "store", square))
    return found


ZONES = zones()
INDEX = ZoneIndex(ZONES)


@settings(max_examples=3000, deadline=None)
@given(bearing=st.floats(0, 360), distance=st.floats(0, 400))
def test_the_index_agrees_with_an_exact_test_of_every_zone(bearing: float, distance: float) -> None:
    lat, lng = destination(*CENTRE, bearing, distance)
    expected = {z.key for z in ZONES if z.shape.contains(lat, lng)}
    assert {z.key for z in INDEX.zones_at(lat, lng)} == expected


def test_a_point_in_the_hole_of_a_polygon_is_not_inside_it() -> None:
    assert ("s1", "square-with-hole") not in {z.key for z in INDEX.zones_at(48.8600, 2.3470)}
    assert ("s1", "square-with-hole") in {z.key for z in INDEX.zones_at(48.8597, 2.3462)}


def test_a_zone_replaced_or_removed_is_answered_from_its_new_shape() -> None:
    index = ZoneIndex([Zone("s1", "z", "store", geometry.circle(*CENTRE, 50))])
    far = destination(*CENTRE, 90, 120)
    assert list(index.zones_at(*far)) == []
    index.put(Zone("s1", "z", "store", geometry.circle(*CENTRE, 200)))
    assert [z.key for z in index.zones_at(*far)] == [("s1", "z")]
    index.remove(("s1", "z"))
    assert list(index.zones_at(*CENTRE)) == [] and len(index) == 0


def test_a_tiny_zone_still_registers() -> None:
    index = ZoneIndex([Zone("s1", "till", "department", geometry.circle(*CENTRE, 3))])
    assert [z.zone_id for z in index.zones_at(*CENTRE)] == ["till"]


# --- the batch path answers what the fixes one by one do ---


def random_zones(rng: random.Random, n: int) -> list[Zone]:
    """Overlapping zones of every kind within a few hundred metres: circles, convex polygons (squares,
    skewed quadrilaterals, hexagons), concave ones (an L) and squares with a hole."""
    found = []
    for i in range(n):
        lat, lng = destination(*CENTRE, rng.uniform(0, 360), 300 * math.sqrt(rng.random()))
        size = rng.uniform(5, 150)
        kind = i % 5
        if kind == 0:
            shape = geometry.circle(lat, lng, size)
        elif kind in (1, 2):
            corners = 4 if kind == 1 else 6
            turn = 360 / corners
            ring = [destination(lat, lng, turn * k + rng.uniform(-15, 15), size) for k in range(corners)]
            shape = geometry.polygon({"type": "Polygon", "coordinates": [closed(ring)]})
        else:
            d = size / 111_000
            e = d / math.cos(math.radians(lat))
            outer = [(lat, lng), (lat, lng + 2 * e), (lat + d, lng + 2 * e), (lat + d, lng + e), (lat + 2 * d, lng + e)]
            outer.append((lat + 2 * d, lng))
            if kind == 3:
                shape = geometry.polygon({"type": "Polygon", "coordinates": [closed(outer)]})
            else:
                square = [(lat, lng), (lat, lng + 2 * e), (lat + 2 * d, lng + 2 * e), (lat + 2 * d, lng)]
                hole = [(lat + d / 2, lng + e / 2), (lat + d / 2, lng + e), (lat + d, lng + e), (lat + d, lng + e / 2)]
                shape = geometry.polygon({"type": "Polygon", "coordinates": [closed(square), closed(hole)]})
        found.append(Zone(f"s{i % 3}", f"z{i}", "department", shape))
    return found


def closed(ring: list[tuple[float, float]]) -> list[list[float]]:
    return [[lng, lat] for lat, lng in [*ring, ring[0]]]


def random_points(rng: random.Random, zones: list[Zone], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Half in or just around a zone's bounding box (boundary cells), half anywhere around."""
    lats, lngs = [], []
    for i in range(n):
        if i % 2:
            minx, miny, maxx, maxy = rng.choice(zones).shape.polygon.bounds
            dx, dy = (maxx - minx) * 0.2, (maxy - miny) * 0.2
            lats.append(rng.uniform(miny - dy, maxy + dy))
            lngs.append(rng.uniform(minx - dx, maxx + dx))
        else:
            lat, lng = destination(*CENTRE, rng.uniform(0, 360), 500 * math.sqrt(rng.random()))
            lats.append(lat)
            lngs.append(lng)
    return np.array(lats), np.array(lngs)


def answers(index: ZoneIndex, lats: np.ndarray, lngs: np.ndarray) -> list[list[ZoneKey]]:
    one_by_one = [
        [z.key for z in index.zones_at(lat, lng)] for lat, lng in zip(lats.tolist(), lngs.tolist(), strict=True)
    ]
    batch = [[z.key for z in here] for here in index.resolve_many(lats, lngs)]
    assert batch == one_by_one  # the same zones, in the same order
    return one_by_one


@pytest.mark.parametrize("seed", range(30))
def test_a_batch_answers_what_each_fix_does_and_the_exact_test_agrees(seed: int) -> None:
    rng = random.Random(seed)
    zones = random_zones(rng, 40)
    index = ZoneIndex(zones)
    lats, lngs = random_points(rng, zones, 1_500)
    found = answers(index, lats, lngs)
    assert sum(map(len, found)) > 100  # points did land in zones, overlapping ones among them
    assert any(len(here) > 1 for here in found)
    for lat, lng, here in zip(lats.tolist(), lngs.tolist(), found, strict=True):
        assert set(here) == {z.key for z in zones if z.shape.contains(lat, lng)}


def test_a_small_batch_is_answered_the_same() -> None:
    rng = random.Random(1)
    zones = random_zones(rng, 20)
    index = ZoneIndex(zones)
    lats, lngs = random_points(rng, zones, 200)
    expected = answers(index, lats, lngs)
    for n in (0, 1, SMALL_BATCH - 1, SMALL_BATCH, SMALL_BATCH + 1):
        assert [[z.key for z in here] for here in index.resolve_many(lats[:n], lngs[:n])] == expected[:n]


@pytest.mark.parametrize("seed", range(12))
def test_zones_put_and_removed_at_runtime_answer_as_a_fresh_index_would(seed: int) -> None:
    """Overlay, dead entries and merges (a low merge_at makes them frequent) never change an answer."""
    rng = random.Random(seed)
    pool = random_zones(rng, 60)
    index = ZoneIndex(pool[:20], merge_at=rng.choice([50, 400, 1_000_000]))
    lats, lngs = random_points(rng, pool, 400)
    for _ in range(40):
        move = rng.random()
        if move < 0.4:
            index.put(rng.choice(pool))  # new, or replacing the zone with its key
        elif move < 0.6:
            z = rng.choice(pool)
            index.put(Zone(z.store_id, z.zone_id, "store", geometry.circle(*CENTRE, rng.uniform(10, 200))))
        else:
            index.remove(rng.choice(pool).key)
        if rng.random() < 0.3:
            fresh = ZoneIndex(index.zones())
            assert answers(index, lats, lngs) == answers(fresh, lats, lngs)
            assert {z.key for z in index.zones()} == {z.key for z in fresh.zones()}
    for lat, lng, here in zip(lats.tolist(), lngs.tolist(), answers(index, lats, lngs), strict=True):
        assert set(here) == {z.key for z in index.zones() if z.shape.contains(lat, lng)}


@pytest.mark.parametrize("seed", range(10))
def test_points_far_from_every_zone_are_skipped_without_losing_one_at_a_zones_edge(seed: int) -> None:
    """Zones centred on the coarse grid's corners (so they straddle squares), points from inside them to
    kilometres away: whether a point is skipped as far from every zone never changes an answer."""
    rng = random.Random(seed)
    corner = (round(CENTRE[0] / 0.002) * 0.002, round(CENTRE[1] / 0.002) * 0.002)
    zones = [
        Zone("s", f"c{k}", "store", geometry.circle(corner[0] + 0.002 * k, corner[1], rng.uniform(10, 120)))
        for k in range(3)
    ]
    index = ZoneIndex(zones)
    lats, lngs = [], []
    for _ in range(3_000):
        lat, lng = destination(*corner, rng.uniform(0, 360), 5_000 * rng.random() ** 3)  # dense near, sparse far
        lats.append(lat)
        lngs.append(lng)
    found = answers(index, np.array(lats), np.array(lngs))
    assert sum(map(len, found)) > 20
    for lat, lng, here in zip(lats, lngs, found, strict=True):
        assert set(here) == {z.key for z in zones if z.shape.contains(lat, lng)}
