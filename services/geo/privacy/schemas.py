"""The wire format of geo's privacy answers. Every field is present, null included: an export says
plainly that something is not held."""

from __future__ import annotations

from typing import Any

import msgspec


class DeviceData(msgspec.Struct, kw_only=True):
    location_consent: dict[str, Any] | None
    """The location purpose as notify last published it, and when geo recorded it."""
    position: dict[str, Any] | None
    """The device's presence cursor: last_ts (its newest fix), last_fix, outlier (a fix refused as
    implausible), suspicious_at, recent_fixes (those of the last half minute, how fast it goes),
    pending_entries (zones it seems to have entered, awaiting another fix) and last_sighting_at."""
    pings: list[dict[str, Any]]
    current_visits: list[dict[str, Any]]
    visit_history: list[dict[str, Any]]
    trips: list[dict[str, Any]]


class PrivacyNotice(msgspec.Struct, kw_only=True):
    service: str
    collects: list[dict[str, Any]]
