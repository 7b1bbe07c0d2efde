"""Which hourly partitions of geo.pings should exist, and which may go. Pure: the clock is an argument.

geo.pings is partitioned by the hour of `ts`, in UTC (no daylight saving: every hour is 3,600 s and
has one name). A ping is accepted when its ts lies in [now - retention, now + the accepted future
bound] (devices.service.screen_time); every hour of that window must have its partition before such
a ping can arrive, since there is no default partition to catch it (see migration 0009). So the
partitions are created ahead, HEADROOM beyond the window: a late or failed maintenance run leaves
hours of margin before an hour boundary arrives without its partition.

Retention drops a partition whole, never a row: only once its entire hour is older than the
retention, plus RETIRE_GRACE.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)

HEADROOM = timedelta(hours=6)
"""Partitions exist this far beyond the newest accepted ts: the maintenance job (every 10 minutes)
may fail this long before a ping finds no partition."""

RETIRE_GRACE = timedelta(minutes=5)
"""A ping accepted an instant ago, its ts just inside the retention window by the accepting replica's
clock, may still be on its way into its partition (the transaction lasts at most seconds; replicas'
clocks differ by less). Detaching under it would fail that insert, and the whole group with it."""

MAINTENANCE_EVERY = timedelta(minutes=10)
"""How often the maintenance job adds partitions ahead and drops those past the retention."""

_NAME = re.compile(r"^pings_p(\d{10})$")


def hour_of(ts: datetime) -> datetime:
    """The UTC hour `ts` falls in (aware, any time zone in)."""
    return ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def name_of(hour: datetime) -> str:
    """The partition of that hour: geo.pings_p2026120214 holds [14:00, 15:00) UTC on 2 December 2026.
    Migration 0009 names the partitions it creates the same way."""
    return f"pings_p{hour_of(hour):%Y%m%d%H}"


def hour_named(name: str) -> datetime | None:
    """The hour a partition's name says, or None for a table that is not one of ours."""
    match = _NAME.match(name)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d%H").replace(tzinfo=UTC)
    except ValueError:  # ten digits that are no hour (pings_p2026133099)
        return None


def wanted(now: datetime, retention: timedelta, accepted_future: timedelta) -> list[datetime]:
    """Every hour a ping accepted at `now` may fall in, and HEADROOM more, oldest first."""
    now = now.astimezone(UTC)  # elsewhere, aware arithmetic is wall-clock: 3 h back across a DST change is 4
    first, last = hour_of(now - retention), hour_of(now + accepted_future + HEADROOM)
    return [first + i * HOUR for i in range(int((last - first) / HOUR) + 1)]


def expired(hours: Iterable[datetime], now: datetime, retention: timedelta) -> list[datetime]:
    """The hours wholly older than the retention (and the grace) at `now`, oldest first."""
    cutoff = now.astimezone(UTC) - retention - RETIRE_GRACE
    return sorted(h for h in hours if h + HOUR <= cutoff)


def longest_kept(retention: timedelta) -> timedelta:
    """How long a ping may stay at most: its hour goes once the hour's newest ping is past the retention
    (an hour later than its oldest), after the grace, at the next maintenance run. The privacy notice
    states this, not the bare retention."""
    return retention + HOUR + RETIRE_GRACE + MAINTENANCE_EVERY


@dataclass(frozen=True)
class Plan:
    create: list[datetime]
    """Hours of the window with no partition attached, oldest first."""
    retire: list[datetime]
    """Hours whose partition, attached or not, may be dropped, oldest first."""


def plan(
    attached: Iterable[datetime],
    detached: Iterable[datetime],
    now: datetime,
    retention: timedelta,
    accepted_future: timedelta,
) -> Plan:
    """What to do at `now`, given the hours of the partitions attached to geo.pings and of those
    detached but not dropped (a run that stopped between the two)."""
    attached = set(attached)
    return Plan(
        create=[h for h in wanted(now, retention, accepted_future) if h not in attached],
        retire=expired(attached | set(detached), now, retention),
    )
