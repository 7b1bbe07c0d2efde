"""Which arm of a journey a device walks: a keyed hash of the journey and the device. Pure.

Keyed (HMAC with a key of notify's own), so nobody outside can tell or choose a device's arm from
its id; a hash, so the draw needs no state and is the same on every replica. A device keeps the arm
of its first enrollment in a journey (the caller looks it up) even if the journey's share changes.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

Arm = Literal["treatment", "control"]
BUCKETS = 10_000


def bucket(key: bytes, journey_id: str, device_id: str) -> int:
    """0..9999, uniform over devices, fixed for a device and a journey."""
    digest = hmac.new(key, f"{journey_id}\x00{device_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def draw(key: bytes, journey_id: str, device_id: str, holdout_percent: int) -> Arm:
    return "control" if bucket(key, journey_id, device_id) < holdout_percent * BUCKETS // 100 else "treatment"
