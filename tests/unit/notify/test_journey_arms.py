"""A device's arm in a journey: a keyed hash of the journey and the device, so it is the same on every
replica and every time, nobody without the key can tell or choose it, and the control arm is the
share of devices the journey holds out."""

from __future__ import annotations

import math

import pytest

from services.notify.journeys.arms import BUCKETS, bucket, draw

KEY = b"k" * 32
DEVICES = [f"dev_{i:05d}" for i in range(20_000)]


def controls(holdout_percent: int, key: bytes = KEY, journey_id: str = "garden") -> int:
    return sum(draw(key, journey_id, d, holdout_percent) == "control" for d in DEVICES)


def within_binomial_bound(count: int, p: float, n: int = len(DEVICES)) -> bool:
    """Within 5 standard deviations of n·p: a fair draw is outside once in some 1.7 million."""
    return abs(count - n * p) <= 5 * math.sqrt(n * p * (1 - p))


def test_the_same_device_and_journey_always_get_the_same_arm() -> None:
    for device in DEVICES[:200]:
        first = draw(KEY, "garden", device, 20)
        assert all(draw(KEY, "garden", device, 20) == first for _ in range(3))


def test_the_arm_depends_on_the_key_and_on_the_journey() -> None:
    buckets = [bucket(KEY, "garden", d) for d in DEVICES[:1000]]
    other_key = [bucket(b"another key" * 3, "garden", d) for d in DEVICES[:1000]]
    other_journey = [bucket(KEY, "kitchen", d) for d in DEVICES[:1000]]
    # Independent draws agree on a bucket once in 10,000: a handful at most among 1000 devices.
    assert sum(a == b for a, b in zip(buckets, other_key, strict=True)) <= 3
    assert sum(a == b for a, b in zip(buckets, other_journey, strict=True)) <= 3


def test_the_journey_and_the_device_are_not_confused_by_concatenation() -> None:
    assert bucket(KEY, "ab", "c") != bucket(KEY, "a", "bc")


def test_buckets_cover_the_whole_range_evenly() -> None:
    counts = [0] * 10
    for d in DEVICES:
        b = bucket(KEY, "garden", d)
        assert 0 <= b < BUCKETS
        counts[b * 10 // BUCKETS] += 1
    assert all(within_binomial_bound(c, 0.1) for c in counts), counts


@pytest.mark.parametrize("holdout_percent", [1, 5, 10, 25])
def test_the_control_share_is_close_to_the_holdout(holdout_percent: int) -> None:
    count = controls(holdout_percent)
    assert within_binomial_bound(count, holdout_percent / 100), count


def test_no_holdout_means_nobody_in_control() -> None:
    assert controls(0) == 0


def test_a_fifty_percent_holdout_splits_about_half_and_half() -> None:
    count = controls(50)
    assert within_binomial_bound(count, 0.5), count
    assert 0 < count < len(DEVICES)


def test_a_larger_holdout_keeps_every_device_that_was_in_control_there() -> None:
    """The arm is a threshold on the device's bucket: raising the share only moves devices into control."""
    for device in DEVICES[:2000]:
        if draw(KEY, "garden", device, 10) == "control":
            assert draw(KEY, "garden", device, 30) == "control"
