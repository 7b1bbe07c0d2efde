"""Devices, their consent per purpose with its proof, and the `consent.changed` event."""
