"""What a beacon is known by. Pure."""

from __future__ import annotations

from services.geo.zones.schemas import Eddystone, IBeacon


def beacon_identity(ibeacon: IBeacon | None, eddystone: Eddystone | None) -> str:
    """As registered and as sighted: lower-case hex, one zone each."""
    if ibeacon is not None:
        return f"ibeacon:{ibeacon.uuid.lower()}:{ibeacon.major}:{ibeacon.minor}"
    assert eddystone is not None
    return f"eddystone:{eddystone.namespace.lower()}:{eddystone.instance.lower()}"


def beacon_of_identity(identity: str) -> tuple[IBeacon | None, Eddystone | None]:
    """The identity as registered, back into its wire form (the inverse of beacon_identity)."""
    kind, *parts = identity.split(":")
    if kind == "ibeacon":
        uuid, major, minor = parts
        return IBeacon(uuid=uuid, major=int(major), minor=int(minor)), None
    namespace, instance = parts
    return None, Eddystone(namespace=namespace, instance=instance)
