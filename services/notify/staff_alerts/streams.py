"""The staff alert stream (Server-Sent Events), live on every replica.

Whichever replica changes an alert announces it with NOTIFY, in the same transaction; each replica's
one listening connection (shared/listener.py) hands it to the hub, which pushes it to every stream open on
that replica for that store. Nothing per stream touches the database unless it must catch up.

Each change has a position (the SSE `id`) that commits in order (repository._take_positions), so:
- a stream opened afresh starts with the store's open alerts, then goes live;
- a reconnection with `Last-Event-ID: N` (or `?last_event_id=N`) gets every alert changed after N, as
  it is now, then goes live; nothing is missed and nothing is sent twice on one stream;
- a stream whose reader fell behind, or whose replica lost its listening connection for a moment,
  catches up from the table the same way.

SSE events: `alert` for an alert the reader has not had on this stream or before `Last-Event-ID`,
`alert.updated` for one it has (acked, closed). Data: the alert as GET /alerts answers it, written in
the reader's language. A comment every HEARTBEAT_S keeps proxies from closing an idle stream.

A stream lives no longer than the token that opened it (directly, or through its ticket): it ends when
that token expires, and as soon as its subject is revoked (RevocationWatcher calls AlertHub.revoke on
every replica). Each replica caps the streams open per staff member and per store.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import signal
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
from litestar.response import ServerSentEventMessage

from services.notify.staff_alerts import repository as repo
from services.notify.staff_alerts.alerts import AlertRow, answer
from shared.auth import Principal, TokenSigner
from shared.db import Database
from shared.errors import TooManyRequests, Unauthorized

log = logging.getLogger("accueil.notify.streams")

HEARTBEAT_S = 15.0
RETRY_MS = 2000
"""How soon a browser reconnects after a stream ends (a replica stopping)."""
BOARD = timedelta(hours=12)
"""A stream opened afresh shows the open alerts created this recently (older ones are stale)."""
REPLAY_BATCH = 500
MAX_BACKLOG = 1000
"""Changes held for one slow reader; past that it catches up from the table instead."""


TICKET_TTL_S = 300
TICKET_AUDIENCE = "accueil:alerts-stream"


def issue_ticket(signer: TokenSigner, caller: Principal, store_id: str, now: datetime) -> tuple[str, datetime]:
    """A browser's EventSource cannot send an Authorization header, and a bearer token in a URL ends up
    in proxy logs and history. So the page trades its token for a ticket that opens this store's
    stream once, within a few minutes, and nothing else: its audience makes every other route refuse
    it. It carries the token's expiry (`until`): the stream ends then."""
    extra: dict[str, object] | None = {"until": caller.expires} if math.isfinite(caller.expires) else None
    ticket = signer.issue(
        "staff",
        caller.subject,
        store_id=store_id,
        ttl_s=TICKET_TTL_S,
        audience=TICKET_AUDIENCE,
        jti=secrets.token_urlsafe(12),
        extra=extra,
        now=now.timestamp(),
    )
    return ticket, now + timedelta(seconds=TICKET_TTL_S)


class Ticket(msgspec.Struct, frozen=True):
    caller: Principal
    """Who the ticket is for; `expires` is the expiry of the token that obtained it."""
    jti: str
    expires_at: datetime
    """The ticket's own expiry: until then, its `jti` must be remembered as used."""


def read_ticket(signer: TokenSigner, ticket: str) -> Ticket:
    principal, claims = signer.claims(ticket, audience=TICKET_AUDIENCE, what="stream ticket")
    jti, until = claims.get("jti"), claims.get("until", math.inf)
    if not isinstance(jti, str) or not isinstance(until, int | float):
        raise Unauthorized("invalid stream ticket")
    caller = msgspec.structs.replace(principal, expires=until, token_id=None)  # the ticket's own jti is not the token's
    return Ticket(caller=caller, jti=jti, expires_at=datetime.fromtimestamp(principal.expires, UTC))


def row_of(record: asyncpg.Record) -> AlertRow:
    return AlertRow(**dict(record))


def payload_of(record: asyncpg.Record) -> str:
    return msgspec.json.encode(row_of(record)).decode()


class Feed:
    """What one open stream has yet to send."""

    def __init__(self, store_id: str, caller: Principal) -> None:
        self.store_id = store_id
        self.caller = caller
        self.subject = caller.subject
        self.until = caller.expires
        """Epoch seconds: the opening token's expiry."""
        self.ended = False
        self._rows: deque[AlertRow] = deque()
        self._behind = False
        self._ready = asyncio.Event()

    def push(self, row: AlertRow) -> None:
        if len(self._rows) >= MAX_BACKLOG:
            self.fall_behind()
            return
        self._rows.append(row)
        self._ready.set()

    def fall_behind(self) -> None:
        """Drop what is held: the stream reads it back from the table."""
        self._rows.clear()
        self._behind = True
        self._ready.set()

    def end(self) -> None:
        self.ended = True
        self._ready.set()

    async def wait(self, timeout: float) -> bool:
        """True when there is something to do (rows, a catch-up, the end); False after `timeout`."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        self._ready.clear()
        return True

    def take_behind(self) -> bool:
        behind, self._behind = self._behind, False
        if behind:
            self._rows.clear()
        return behind

    def drain(self) -> list[AlertRow]:
        rows = list(self._rows)
        self._rows.clear()
        return rows


class AlertHub:
    """The open streams of this replica, by store."""

    def __init__(self, per_subject: int, per_store: int) -> None:
        self._feeds: dict[str, set[Feed]] = {}
        self._of_subject: dict[str, set[Feed]] = {}
        self._per_subject = per_subject
        self._per_store = per_store
        self.closed = False

    @property
    def open_streams(self) -> int:
        return sum(len(feeds) for feeds in self._feeds.values())

    def open(self, caller: Principal, store_id: str) -> Feed:
        """A stream for `caller`, within the caps (429 naming the one reached)."""
        if len(self._of_subject.get(caller.subject, ())) >= self._per_subject:
            raise TooManyRequests(f"at most {self._per_subject} open alert streams per staff member")
        if len(self._feeds.get(store_id, ())) >= self._per_store:
            raise TooManyRequests(f"at most {self._per_store} open alert streams per store")
        feed = Feed(store_id, caller)
        if self.closed:
            feed.end()
        self._feeds.setdefault(store_id, set()).add(feed)
        self._of_subject.setdefault(caller.subject, set()).add(feed)
        return feed

    def release(self, feed: Feed) -> None:
        for index, key in ((self._feeds, feed.store_id), (self._of_subject, feed.subject)):
            feeds = index.get(key)
            if feeds is not None:
                feeds.discard(feed)
                if not feeds:
                    del index[key]

    def revoke(self, is_revoked: Callable[[Principal], bool]) -> None:
        """Tokens were revoked (asked of each stream's caller, a few per store): the streams opened with
        tokens now revoked end now."""
        for feeds in self._of_subject.values():
            for feed in feeds:
                if is_revoked(feed.caller):
                    feed.end()

    def on_notify(self, payload: str) -> None:
        row = msgspec.json.decode(payload, type=AlertRow)
        for feed in self._feeds.get(row.store_id, ()):
            feed.push(row)

    def catch_up(self) -> None:
        """The listener (re)connected: changes announced meanwhile were not heard."""
        for feeds in self._feeds.values():
            for feed in feeds:
                feed.fall_behind()

    def close(self) -> None:
        """End every stream (the replica is stopping): each browser reconnects, to another replica."""
        self.closed = True
        for feeds in self._feeds.values():
            for feed in feeds:
                feed.end()


def close_on_signals(hub: AlertHub) -> None:
    """The HTTP server lets open responses finish before it runs the app's shutdown, and an event
    stream never finishes by itself: on SIGTERM / SIGINT, end the streams first, then let the server's
    own handler do the rest."""
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)

        def handler(sig: int, frame: object, previous: object = previous) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(hub.close)
            if callable(previous):
                previous(sig, frame)

        signal.signal(signum, handler)


def _message(row: AlertRow, locale: str, known_until: int) -> ServerSentEventMessage:
    kind = "alert" if row.created_seq > known_until else "alert.updated"
    data = msgspec.json.encode(answer(row, locale)).decode()
    return ServerSentEventMessage(data=data, event=kind, id=row.seq)


async def _changes_after(db: Database, store_id: str, after: int) -> list[AlertRow]:
    rows: list[AlertRow] = []
    async with db.transaction(readonly=True) as conn:
        while True:
            batch = await repo.alert_changes(conn, store_id, after, REPLAY_BATCH)
            rows += [row_of(r) for r in batch]
            if len(batch) < REPLAY_BATCH:
                return rows
            after = batch[-1]["seq"]


@dataclass
class AlertStream:
    """One open stream: its messages, and its place in the hub until the response is over."""

    messages: AsyncGenerator[ServerSentEventMessage]
    hub: AlertHub
    feed: Feed

    async def close(self) -> None:
        """Run once the response is over, however it ended. A tablet can go away before the first
        message is asked for (a generator never started never runs its own cleanup) or between two
        messages (a suspended one would run it only when garbage-collected): the stream's place in
        the caps is given back now either way."""
        await self.messages.aclose()
        self.hub.release(self.feed)


async def alert_events(
    db: Database, hub: AlertHub, feed: Feed, last_event_id: int | None, locale: str
) -> AsyncGenerator[ServerSentEventMessage]:
    """`feed` is opened before the table is read: a change committed meanwhile is not lost."""
    store_id = feed.store_id
    try:
        yield ServerSentEventMessage(data=None, comment="accueil staff alerts", retry=RETRY_MS)
        async with db.transaction(readonly=True) as conn:
            newest = await repo.alert_position(conn, store_id)
        if last_event_id is not None and last_event_id <= newest:
            cursor = last_event_id
            for row in await _changes_after(db, store_id, last_event_id):
                yield _message(row, locale, last_event_id)
                cursor = row.seq
        else:  # first visit, or a position this database never gave: start from what is open now
            # One snapshot: the open alerts and the position they reflect agree.
            async with db.transaction(isolation="repeatable_read", readonly=True) as conn:
                records, cursor = await repo.open_alerts(conn, store_id, datetime.now(UTC) - BOARD)
            for record in records:
                yield _message(row_of(record), locale, -1)
            yield ServerSentEventMessage(data=None, id=cursor)  # sets the browser's Last-Event-ID only
        while True:
            left = feed.until - time.time()
            if left <= 0:
                return  # the token that opened it expired: the page renews it and reconnects
            if not await feed.wait(min(HEARTBEAT_S, left)):
                if time.time() < feed.until:
                    yield ServerSentEventMessage(data=None, comment="keep-alive")
                continue
            if feed.ended:
                return
            if feed.take_behind():
                # Read back, each alert once as it is now: "new" means created after what was sent.
                known = cursor
                for row in await _changes_after(db, store_id, known):
                    yield _message(row, locale, known)
                    cursor = row.seq
                continue
            for row in feed.drain():  # each a change, in order
                if row.seq <= cursor:
                    continue  # already sent: read back from the table while it was also announced
                yield _message(row, locale, cursor)
                cursor = row.seq
    finally:
        hub.release(feed)
