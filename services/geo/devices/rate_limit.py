"""A token bucket per device, kept in the device's row: the limit holds across connections and
across geo replicas, since every request of a device takes the same row lock. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Bucket:
    tokens: float
    at: datetime | None


def take(bucket: Bucket, now: datetime, capacity: float, per_s: float) -> tuple[Bucket, float | None]:
    """Spend one token: (new bucket, None) if allowed, else (unchanged bucket, seconds to wait)."""
    if bucket.at is None:
        tokens = capacity
    else:
        elapsed = max(0.0, (now - bucket.at).total_seconds())
        tokens = min(capacity, bucket.tokens + elapsed * per_s)
    if tokens < 1:
        return bucket, math.ceil((1 - tokens) / per_s * 10) / 10
    return Bucket(tokens - 1, now), None
