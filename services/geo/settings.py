"""geo's own settings, from ACCUEIL_<FIELD> variables."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import msgspec

Positive = Annotated[int, msgspec.Meta(gt=0)]


class GeoSettings(msgspec.Struct, frozen=True, kw_only=True):
    ping_retention_hours: Positive = 24
    """Raw pings are deleted after this long."""

    history_days: Positive = 90
    """Closed visits and ended trips (coarse: zone, store, times) are deleted after this long."""

    beacon_exit_s: Positive = 30
    """A beacon zone is left only after no sighting for this long (iOS uses 30 s)."""

    exit_confirm_s: Positive = 60
    """A GPS visit ends only once the device has been seen beyond the exit buffer for this long (or two
    agreeing fixes far beyond any noise): a stray fix ends nothing."""

    trip_approach_eta_s: Positive = 300
    """A trip is `approaching` once the estimated time of arrival drops under this."""

    trip_expiry_minutes: Positive = 180
    """A trip that has not arrived this long after it started expires."""

    max_speed_mps: Positive = 70
    """An implied speed above this (252 km/h) between two fixes is not a shopper moving: suspicious."""

    trips_per_hour: Positive = 10
    """Trips one device may start in any hour (beyond: 429 with Retry-After). Each start is a row kept
    `history_days` and an alert for the store's staff: a start/cancel loop would grow both without bound."""

    requests_per_s: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    """Sustained ping / sighting uploads a device may make per second (each may carry up to 500)."""

    request_burst: Positive = 30
    """How many uploads a device may make at once before the sustained rate applies."""

    min_fix_interval_s: Annotated[float, msgspec.Meta(ge=0)] = 1.0
    """A device's fixes are stored at most one per this many seconds of event time (a closer one still
    moves presence): a day of one device is bounded however fast it uploads."""

    @property
    def min_fix_interval(self) -> timedelta:
        return timedelta(seconds=self.min_fix_interval_s)
