"""Pickup trips: a shopper on the way to collect an order, for the staff waiting."""
