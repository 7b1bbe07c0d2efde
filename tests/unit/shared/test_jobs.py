"""Scheduled jobs, the rule alone: when a tick falls (running each tick once across replicas:
tests/service/shared/test_jobs.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.jobs import tick_of


def test_ticks_are_aligned_the_same_on_every_replica() -> None:
    a = datetime(2026, 11, 23, 10, 0, 7, tzinfo=UTC)
    b = datetime(2026, 11, 23, 10, 0, 59, tzinfo=UTC)
    assert tick_of(a, 60) == tick_of(b, 60) == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert tick_of(b + timedelta(seconds=1), 60) == datetime(2026, 11, 23, 10, 1, tzinfo=UTC)
