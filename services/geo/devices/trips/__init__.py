"""Pickup trips: a shopper on the way to collect an order, for the staff waiting. A trip is part of its
device (services.geo.devices): it moves under the device's lock, with the device's pings."""
