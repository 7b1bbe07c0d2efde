"""ISO 8601 durations as journeys write them (`PT30S`, `PT10M`, `P1D`, `P1W`). Pure.

Years and months are refused: their length depends on the calendar, and a wait must mean the same
number of seconds whenever it starts.
"""

from __future__ import annotations

import re
from datetime import timedelta

from shared.errors import Invalid

_DURATION = re.compile(r"^P(?!$)(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
SHORTEST = timedelta(seconds=1)
LONGEST = timedelta(days=90)


def parse(text: str, field: str) -> timedelta:
    """The duration, or Invalid naming `field` if it is not one from 1 s to 90 days."""
    match = _DURATION.match(text)
    if match is None:
        raise Invalid(f"{text!r} is not an ISO 8601 duration such as PT30S, PT10M or P1D", field=field)
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    if max(weeks, days, hours, minutes, seconds) > 10**7:
        raise Invalid(f"{text!r} is longer than 90 days", field=field)
    duration = timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration < SHORTEST:
        raise Invalid("a duration is at least 1 second (PT1S)", field=field)
    if duration > LONGEST:
        raise Invalid(f"{text!r} is longer than 90 days", field=field)
    return duration
