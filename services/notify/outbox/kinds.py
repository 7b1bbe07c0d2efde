"""Delivery kinds: what the outbox needs to know to deliver one kind of message. Each feature that
queues messages declares its own (offers, pickup updates, staff alerts, back-in-stock), and they are
registered once, where the app is built (app.py): the outbox itself knows none of those features.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from services.notify.push.channel import Urgency


@dataclass(frozen=True)
class Due:
    """A message being claimed for sending, as a kind's `still_wanted` check sees it."""

    message_id: int
    purpose: str
    device_id: str | None
    """None for a staff member's message."""
    request_id: int | None
    """The back-in-stock request the message answers, if any."""


StillWanted = Callable[[asyncpg.Connection, Sequence[Due]], Awaitable[Collection[int]]]
"""Which of these messages (their ids) may still be said, asked in the sender's claim transaction."""


@dataclass(frozen=True)
class DeliveryKind:
    purpose: str
    """The purpose of the messages of this kind (policy/purposes.py), as the message log keeps it."""
    ttl: timedelta
    """How long a message is worth delivering once due: the push service drops it after that (the TTL
    header), and so does the sender."""
    urgency: Urgency
    still_wanted: StillWanted | None = None
    """Checked as each message is claimed for sending, maybe long after it was decided (held through
    quiet hours, retried after a failure): a shopper may have withdrawn consent meanwhile. None: a
    message of this kind, once decided, is always said."""

    @property
    def ttl_s(self) -> int:
        return int(self.ttl.total_seconds())


class DeliveryKinds:
    """The kinds registered with the outbox, one per purpose."""

    def __init__(self, kinds: Iterable[DeliveryKind]) -> None:
        self._by_purpose: dict[str, DeliveryKind] = {}
        for kind in kinds:
            if kind.purpose in self._by_purpose:
                raise ValueError(f"two delivery kinds for the purpose {kind.purpose!r}")
            self._by_purpose[kind.purpose] = kind

    def urgency(self, purpose: str) -> Urgency:
        return self._by_purpose[purpose].urgency

    async def withdrawn(self, conn: asyncpg.Connection, due: Sequence[Due]) -> set[int]:
        """The ids of the messages no longer to be said, each asked to its kind. A message of a purpose
        no feature registered is not said either: nothing vouches for it."""
        by_purpose: dict[str, list[Due]] = {}
        for message in due:
            by_purpose.setdefault(message.purpose, []).append(message)
        gone: set[int] = set()
        for purpose, messages in by_purpose.items():
            kind = self._by_purpose.get(purpose)
            if kind is None:
                gone.update(m.message_id for m in messages)
            elif kind.still_wanted is not None:
                wanted = await kind.still_wanted(conn, messages)
                gone.update(m.message_id for m in messages if m.message_id not in wanted)
        return gone
