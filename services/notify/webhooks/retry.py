"""When a failed webhook delivery is tried again, and the body every attempt sends. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from shared.events import Event

MAX_BACKOFF_S = 3600.0
GIVE_UP_AFTER = timedelta(hours=24)


def backoff_s(attempt: int, first_s: float) -> float:
    """The wait after the `attempt`-th failure: first_s, doubling, at most an hour."""
    return min(MAX_BACKOFF_S, first_s * 2.0 ** min(attempt - 1, 30))


@dataclass(frozen=True)
class Outcome:
    status: str  # delivered | pending (retried at next_attempt_at) | failed (given up)
    next_attempt_at: datetime | None = None


def outcome_of(ok: bool, attempt: int, now: datetime, event_ts: datetime, first_s: float) -> Outcome:
    if ok:
        return Outcome("delivered")
    retry_at = now + timedelta(seconds=backoff_s(attempt, first_s))
    if retry_at > event_ts + GIVE_UP_AFTER:
        return Outcome("failed")
    return Outcome("pending", retry_at)


def body_of(event: Event) -> str:
    """Standard Webhooks' body: the type, when the event happened, and the event as the feed shows it
    (it carries ids and facts, never coordinates)."""
    return msgspec.json.encode({"type": event.type, "timestamp": event.ts, "data": event}).decode()
