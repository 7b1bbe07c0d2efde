"""Budgets of writes per hour (a device's consent changes, its back-in-stock requests, the trips it
starts): pure, from the times of the writes already made."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from shared.errors import TooManyRequests


def spend_hourly(recent: Sequence[datetime], limit: int, now: datetime, what: str) -> None:
    """Refuse one more write (429, with Retry-After: when the oldest of the last `limit` writes leaves
    the hour) when the hour before `now` already holds `limit` of them; `recent` is oldest first."""
    if len(recent) < limit:
        return
    oldest_counted = recent[-limit] if limit else now
    wait = max(1, math.ceil((oldest_counted + timedelta(hours=1) - now).total_seconds()))
    raise TooManyRequests(f"at most {limit} {what} an hour: retry in {wait} s", headers={"Retry-After": str(wait)})
