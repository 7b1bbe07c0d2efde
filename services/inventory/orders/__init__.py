"""Pickup orders: placing them (reserving stock), their lifecycle, their expiry."""
