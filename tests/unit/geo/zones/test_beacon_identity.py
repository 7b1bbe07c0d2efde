"""A beacon's stored identity reads back as the identity it was registered with."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.geo.zones.beacons import beacon_identity, beacon_of_identity
from services.geo.zones.schemas import Eddystone, IBeacon

HEX = "0123456789abcdefABCDEF"


def hex_text(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=HEX, min_size=n, max_size=n)


@given(
    st.tuples(hex_text(8), hex_text(4), hex_text(4), hex_text(4), hex_text(12)),
    st.integers(0, 65535),
    st.integers(0, 65535),
)
def test_an_ibeacon_reads_back_lower_cased(parts: tuple[str, ...], major: int, minor: int) -> None:
    registered = IBeacon(uuid="-".join(parts), major=major, minor=minor)
    ibeacon, eddystone = beacon_of_identity(beacon_identity(registered, None))
    assert eddystone is None
    assert ibeacon == IBeacon(uuid=registered.uuid.lower(), major=major, minor=minor)


@given(hex_text(20), hex_text(12))
def test_an_eddystone_reads_back_lower_cased(namespace: str, instance: str) -> None:
    ibeacon, eddystone = beacon_of_identity(beacon_identity(None, Eddystone(namespace=namespace, instance=instance)))
    assert ibeacon is None
    assert eddystone == Eddystone(namespace=namespace.lower(), instance=instance.lower())
