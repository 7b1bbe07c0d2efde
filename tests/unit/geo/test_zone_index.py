"""The H3 index must answer exactly what testing every zone would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.geo.zones import geometry
from services.geo.zones.zone_index import Zone, ZoneIndex
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
