"""When a campaign may make offers: its dates, and its opening hours in the store's local time. Pure.

A schedule has an optional start and end (instants) and optional weekly hours: each entry names
days (mon..sun) and a window from HH:MM to HH:MM, on the same day (from before to; a window across
midnight is two entries, one ending 23:59 and one starting 00:00). Without hours, any time between
the dates is within it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from shared.errors import Invalid

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Hours:
    days: frozenset[int]  # 0 = Monday, as datetime.weekday()
    start: time
    end: time  # exclusive


@dataclass(frozen=True)
class Schedule:
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    hours: tuple[Hours, ...] = ()

    def within(self, local_now: datetime) -> bool:
        """Is this moment (aware, in the store's time zone) inside the dates and, if any, the hours?"""
        if self.starts_at is not None and local_now < self.starts_at:
            return False
        if self.ends_at is not None and local_now >= self.ends_at:
            return False
        if not self.hours:
            return True
        day, t = local_now.weekday(), local_now.time().replace(tzinfo=None)
        return any(day in h.days and h.start <= t < h.end for h in self.hours)


def _clock(value: str, field: str) -> time:
    m = _HHMM.match(value)
    if m is None:
        raise Invalid(f"{value!r} is not a time of day as HH:MM (00:00 to 23:59)", field=field)
    return time(int(m[1]), int(m[2]))


def parse(starts_at: datetime | None, ends_at: datetime | None, hours: list[dict[str, Any]]) -> Schedule:
    """A schedule from what was asked, or Invalid naming the first wrong field."""
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise Invalid("ends_at must be after starts_at", field="schedule.ends_at")
    windows = []
    for i, entry in enumerate(hours):
        at = f"schedule.hours[{i}]"
        days = entry["days"]
        if not days or any(d not in DAYS for d in days):
            raise Invalid(f"days must be a non-empty list of {', '.join(DAYS)}", field=f"{at}.days")
        start, end = _clock(entry["from"], f"{at}.from"), _clock(entry["to"], f"{at}.to")
        if end <= start:
            raise Invalid("to must be after from, the same day (split a window across midnight)", field=f"{at}.to")
        windows.append(Hours(frozenset(DAYS.index(d) for d in days), start, end))
    return Schedule(starts_at, ends_at, tuple(windows))


def stored(raw: dict[str, Any] | None) -> Schedule | None:
    """A schedule as kept with its campaign (checked when it was saved)."""
    if raw is None:
        return None
    starts, ends = (None if raw.get(k) is None else datetime.fromisoformat(raw[k]) for k in ("starts_at", "ends_at"))
    return parse(starts, ends, raw.get("hours") or [])
