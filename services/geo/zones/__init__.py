"""The map: stores, their zones and beacons (their SQL and wire format), and every process's in-memory
index of where a point is, kept current over LISTEN/NOTIFY. Knows nothing of devices."""
