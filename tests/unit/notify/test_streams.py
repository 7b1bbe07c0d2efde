"""The live alert streams of one replica (the hub and its feeds), and the tickets that open them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from services.notify.staff_alerts.alerts import AlertRow
from services.notify.staff_alerts.streams import MAX_BACKLOG, AlertHub, issue_ticket, read_ticket
from shared.auth import Principal, TokenSigner
from shared.errors import TooManyRequests, Unauthorized
from shared.revocation import RevocationWatcher
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY

NOW = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
SIGNER = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)
ALEX = Principal(role="staff", subject="stf_1", store_id="rivoli")


def staff(n: int, store_id: str = "rivoli", expires: float = float("inf")) -> Principal:
    subject = f"stf_{n}"
    return Principal(
        role="staff", subject=subject, store_id=store_id, expires=expires, subject_mark=SIGNER.subject_mark(subject)
    )


def ticket_caller(signer: TokenSigner, ticket: str) -> Principal:
    return read_ticket(signer, ticket).caller


def payload(store_id: str = "rivoli", seq: int = 1) -> str:
    row = AlertRow(
        alert_id=seq,
        store_id=store_id,
        trip_id="trip_1",
        kind="arrived",
        event_id=9,
        at=NOW,
        created_at=NOW,
        created_seq=seq,
        seq=seq,
    )
    return msgspec.json.encode(row).decode()


async def test_an_announced_change_reaches_every_stream_of_its_store_and_no_other() -> None:
    hub = AlertHub(per_subject=3, per_store=50)
    tablet, phone, elsewhere = hub.open(staff(1), "rivoli"), hub.open(staff(2), "rivoli"), hub.open(staff(3), "opera")
    hub.on_notify(payload("rivoli", seq=3))
    assert [r.seq for r in tablet.drain()] == [3] and [r.seq for r in phone.drain()] == [3]
    assert elsewhere.drain() == [] and not await elsewhere.wait(0.01)


async def test_a_closed_stream_is_forgotten() -> None:
    hub = AlertHub(per_subject=3, per_store=50)
    feed = hub.open(staff(1), "rivoli")
    hub.release(feed)
    hub.on_notify(payload())
    assert feed.drain() == [] and hub.open_streams == 0


async def test_a_reader_that_falls_far_behind_reads_back_from_the_table_instead() -> None:
    hub = AlertHub(per_subject=3, per_store=50)
    feed = hub.open(staff(1), "rivoli")
    for seq in range(1, MAX_BACKLOG + 2):
        hub.on_notify(payload(seq=seq))
    assert feed.take_behind() and feed.drain() == []
    assert not feed.take_behind()  # once


async def test_after_the_listener_reconnects_every_stream_reads_back_what_it_may_have_missed() -> None:
    hub = AlertHub(per_subject=3, per_store=50)
    feeds = [hub.open(staff(1), "rivoli"), hub.open(staff(2), "opera")]
    hub.catch_up()
    assert all([await f.wait(0.01) and f.take_behind() for f in feeds])


async def test_closing_the_hub_ends_every_stream_and_any_opened_later() -> None:
    hub = AlertHub(per_subject=3, per_store=50)
    feed = hub.open(staff(1), "rivoli")
    hub.close()
    assert await feed.wait(0.01) and feed.ended
    assert hub.open(staff(1), "rivoli").ended


def test_a_ticket_opens_its_stores_stream_as_that_staff_member() -> None:
    ticket, expires = issue_ticket(SIGNER, ALEX, "rivoli", datetime.now(UTC))
    caller = ticket_caller(SIGNER, ticket)
    assert (caller.role, caller.subject, caller.store_id) == ("staff", "stf_1", "rivoli")
    assert timedelta(minutes=4) < expires - datetime.now(UTC) <= timedelta(minutes=5)


def test_a_ticket_is_no_bearer_token() -> None:
    ticket, _ = issue_ticket(SIGNER, ALEX, "rivoli", datetime.now(UTC))
    with pytest.raises(Unauthorized):
        TokenSigner(TOKEN_KEY, ADMIN_TOKEN).verify(ticket)


def test_a_bearer_token_is_no_ticket() -> None:
    token = TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("staff", "stf_1", store_id="rivoli")
    with pytest.raises(Unauthorized, match="invalid stream ticket"):
        ticket_caller(SIGNER, token)


def test_an_expired_or_forged_ticket_is_refused() -> None:
    old, _ = issue_ticket(SIGNER, ALEX, "rivoli", datetime.now(UTC) - timedelta(minutes=6))
    with pytest.raises(Unauthorized, match="expired"):
        ticket_caller(SIGNER, old)
    another_key = TokenSigner("another-key-0123456789-0123456789-abcdef", ADMIN_TOKEN)
    forged, _ = issue_ticket(another_key, ALEX, "rivoli", datetime.now(UTC))
    with pytest.raises(Unauthorized, match="invalid"):
        ticket_caller(SIGNER, forged)


async def test_a_revoked_staff_members_streams_end_and_no_one_elses() -> None:
    hub = AlertHub(per_subject=3, per_store=50)
    theirs, other = hub.open(staff(1), "rivoli"), hub.open(staff(2), "rivoli")
    watcher = RevocationWatcher()
    watcher.on_revoke(hub.revoke)
    watcher.add(SIGNER.subject_mark("stf_1"), datetime.now(UTC) + timedelta(hours=1))
    assert await theirs.wait(0.01) and theirs.ended
    assert not other.ended


def test_open_streams_are_capped_per_staff_member_and_per_store() -> None:
    hub = AlertHub(per_subject=2, per_store=3)
    hub.open(staff(1), "rivoli")
    hub.open(staff(1), "rivoli")
    with pytest.raises(TooManyRequests, match="per staff member"):
        hub.open(staff(1), "rivoli")
    hub.open(staff(2), "rivoli")
    with pytest.raises(TooManyRequests, match="per store"):
        hub.open(staff(3), "rivoli")
    hub.open(staff(3), "opera")  # another store has its own room
    released = hub.open(staff(4), "opera")
    hub.release(released)
    assert hub.open_streams == 4


def test_a_ticket_is_single_use_by_name_and_carries_the_expiry_of_the_token_behind_it() -> None:
    caller = staff(1, expires=1_900_000_000.0)
    first, _ = issue_ticket(SIGNER, caller, "rivoli", datetime.now(UTC))
    second, _ = issue_ticket(SIGNER, caller, "rivoli", datetime.now(UTC))
    a, b = read_ticket(SIGNER, first), read_ticket(SIGNER, second)
    assert a.jti != b.jti
    assert a.caller.expires == 1_900_000_000.0
    assert timedelta(minutes=4) < a.expires_at - datetime.now(UTC) <= timedelta(minutes=5)
