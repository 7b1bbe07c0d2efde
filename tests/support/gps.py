"""What phones really report, for the location tests and the benchmark.

A fix's error is roughly normal on each axis with a standard deviation of about half the accuracy the
phone reports, so about one fix in forty lands further out (along any one direction) than its accuracy;
near buildings, multipath adds rare outliers tens of metres off. Each scenario is a seeded generator of
timed fixes (`Fix`), so a property test runs it over many seeds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.geo.devices.presence import Fix
from shared.geodesy import destination, distance_m

MULTIPATH_RATE = 0.02
"""How often a fix is a multipath outlier, in the heavy-tailed variant."""
MULTIPATH_M = (50.0, 150.0)


def ping(fix: Fix) -> dict[str, object]:
    """A fix as `POST /v1/pings` takes it."""
    body: dict[str, object] = {"lat": fix.lat, "lng": fix.lng, "accuracy_m": fix.accuracy_m, "ts": fix.ts.isoformat()}
    if fix.speed_mps is not None:
        body["speed_mps"] = fix.speed_mps
    return body


@dataclass(frozen=True)
class Phone:
    """How one phone errs: its accuracies, and whether multipath outliers happen."""

    rng: random.Random
    accuracy_m: tuple[float, float] = (8.0, 30.0)
    multipath: bool = False

    def accuracy(self) -> float:
        return round(self.rng.uniform(*self.accuracy_m), 1)

    def report(
        self, ts: datetime, lat: float, lng: float, accuracy_m: float | None = None, speed_mps: float | None = None
    ) -> Fix:
        """A fix of the true position (lat, lng): gaussian scatter of σ = accuracy / 2 per axis, and a
        multipath outlier now and then."""
        acc = self.accuracy() if accuracy_m is None else accuracy_m
        north, east = self.rng.gauss(0, acc / 2), self.rng.gauss(0, acc / 2)
        if self.multipath and self.rng.random() < MULTIPATH_RATE:
            bearing = self.rng.uniform(0, 360)
            off = self.rng.uniform(*MULTIPATH_M)
            north += off * math.cos(math.radians(bearing))
            east += off * math.sin(math.radians(bearing))
        lat2, lng2 = destination(lat, lng, 0, north)
        lat2, lng2 = destination(lat2, lng2, 90, east)
        return Fix(ts, lat2, lng2, acc, speed_mps)


def still(phone: Phone, at: tuple[float, float], start: datetime, minutes: float, every_s: float = 5) -> list[Fix]:
    """A phone lying still at `at` (a shop door, a pocket at the till)."""
    count = int(minutes * 60 / every_s)
    return [phone.report(start + timedelta(seconds=i * every_s), *at) for i in range(count)]


def along(
    phone: Phone,
    path: list[tuple[float, float]],
    speed_mps: float,
    start: datetime,
    every_s: float = 5,
    report_speed: bool = True,
) -> list[Fix]:
    """Moving at a steady speed along a path of points, one fix every `every_s`."""
    fixes: list[Fix] = []
    t = 0.0
    for (lat1, lng1), (lat2, lng2) in zip(path, path[1:], strict=False):
        leg = distance_m(lat1, lng1, lat2, lng2)
        bearing = _bearing(lat1, lng1, lat2, lng2)
        done = 0.0
        while done < leg:
            lat, lng = destination(lat1, lng1, bearing, done)
            speed = round(speed_mps * phone.rng.uniform(0.9, 1.1), 1) if report_speed else None
            fixes.append(phone.report(start + timedelta(seconds=t), lat, lng, speed_mps=speed))
            done += speed_mps * every_s
            t += every_s
    return fixes


def walk_in(
    phone: Phone,
    centre: tuple[float, float],
    start: datetime,
    from_m: float = 300,
    stay_min: float = 10,
    bearing: float = 0,
    every_s: float = 5,
) -> list[Fix]:
    """A shopper walking in from `from_m` away at 1.3 m/s, then staying inside (near the centre)."""
    outside = destination(*centre, bearing, from_m)
    walk = along(phone, [outside, centre], 1.3, start, every_s)
    inside_from = walk[-1].ts + timedelta(seconds=every_s) if walk else start
    return walk + still(phone, centre, inside_from, stay_min, every_s)


def drive_past(
    phone: Phone,
    centre: tuple[float, float],
    start: datetime,
    speed_kmh: float = 40,
    half_length_m: float = 400,
    offset_m: float = 0,
    every_s: float = 2,
    report_speed: bool = True,
) -> list[Fix]:
    """A car on a straight road through (or `offset_m` beside) a place, never stopping."""
    side = destination(*centre, 90, offset_m)
    a, b = destination(*side, 0, half_length_m), destination(*side, 180, half_length_m)
    return along(phone, [a, b], speed_kmh / 3.6, start, every_s, report_speed)


def drive_in(
    phone: Phone,
    bay: tuple[float, float],
    start: datetime,
    from_m: float = 1200,
    speed_kmh: float = 30,
    wait_min: float = 5,
    every_s: float = 2,
) -> list[Fix]:
    """A car driving in to a pickup bay and waiting there, engine off."""
    road = destination(*bay, 90, from_m)
    drive = along(phone, [road, bay], speed_kmh / 3.6, start, every_s)
    parked_from = drive[-1].ts + timedelta(seconds=every_s) if drive else start
    return drive + [replace_speed(f, 0.0) for f in still(phone, bay, parked_from, wait_min, every_s)]


def pocket_indoors(
    phone: Phone, at: tuple[float, float], start: datetime, minutes: float = 20, every_s: float = 5
) -> Iterator[Fix]:
    """A phone in a pocket inside the shop: accuracy drifts from 60 to 100 m (no sky, no Wi-Fi fix)."""
    count = int(minutes * 60 / every_s)
    for i in range(count):
        acc = round(60 + 40 * i / max(count - 1, 1) + phone.rng.uniform(-5, 5), 1)
        yield phone.report(start + timedelta(seconds=i * every_s), *at, accuracy_m=acc)


def replace_speed(fix: Fix, speed_mps: float | None) -> Fix:
    return Fix(fix.ts, fix.lat, fix.lng, fix.accuracy_m, speed_mps)


def _bearing(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lng2 - lng1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(y, x)) + 360) % 360
