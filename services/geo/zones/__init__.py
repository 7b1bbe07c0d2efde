"""Stores, their zones and beacons, and every process's in-memory index of them."""
