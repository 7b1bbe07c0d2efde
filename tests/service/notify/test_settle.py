"""Answers settled together, in one statement: each message only under the lease its attempt was
claimed with, so a sender that lost a lease never overwrites the result of the sender that took over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from services.notify.outbox import repository as repo
from services.notify.outbox.delivery import topic_of
from services.notify.outbox.messages import Addressee


async def queued(db: asyncpg.Connection, devices: list[str]) -> None:
    """One due offer for each of these devices, each subscribed."""
    for device in devices:
        await db.execute(
            "INSERT INTO notify.devices (device_id, platform, locale, timezone) VALUES ($1, 'web', 'fr', 'UTC')",
            device,
        )
        await db.execute(
            "INSERT INTO notify.push_targets (recipient_kind, recipient_id, provider, address, p256dh, auth)"
            " VALUES ('device', $1, 'webpush', 'https://fcm.googleapis.com/wp/' || $1, 'k', 'a')",
            device,
        )
        await db.execute(
            """
            INSERT INTO notify.messages (device_id, event_id, purpose, status, topic, next_attempt_at, expires_at)
            VALUES ($1, (SELECT coalesce(max(event_id), 0) + 1 FROM notify.messages), 'offers', 'pending', $2,
                    now(), now() + interval '15 minutes')
            """,
            device,
            topic_of("test", device),
        )


async def claim(db: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    """What a sender's claim does; its attempts by device."""
    async with db.transaction():
        rows = await repo.due_messages(db, 10)
        opened = await repo.start_sending(db, [r["id"] for r in rows], ["https://fcm.googleapis.com"] * len(rows), 30)
    return {r["device_id"]: opened[r["id"]] for r in rows}


def answered(attempt: asyncpg.Record, outcome: str, status: str, retry_at: datetime | None = None) -> repo.Answered:
    return repo.Answered(
        attempt_id=attempt["id"],
        message_id=attempt["message_id"],
        attempt=attempt["attempt"],
        outcome=outcome,
        status_code={"accepted": 201, "unavailable": 503}[outcome],
        retry_after_s=None,
        error=None,
        answered_at=datetime.now(UTC),
        status=status,
        reason=None,
        next_attempt_at=retry_at,
    )


async def test_a_lease_lost_for_one_message_of_a_batch_leaves_the_other_senders_result(db: asyncpg.Connection) -> None:
    await queued(db, ["d1", "d2"])
    slow = await claim(db)  # a sender takes both, then stalls mid-send
    await db.execute("UPDATE notify.messages SET lease_until = now() - interval '1 second' WHERE device_id = 'd2'")
    await repo.recover_expired_leases(db)  # presumed dead for d2: sent once more, by another sender
    other = await claim(db)
    assert list(other) == ["d2"]
    assert await repo.record_answers(db, [answered(other["d2"], "accepted", "sent")]) == {other["d2"]["message_id"]}

    # The stalled sender comes back with both answers: d1's is its to record, d2's no longer.
    retry_at = datetime.now(UTC) + timedelta(seconds=30)
    settled = await repo.record_answers(
        db, [answered(slow["d1"], "accepted", "sent"), answered(slow["d2"], "unavailable", "pending", retry_at)]
    )

    assert settled == {slow["d1"]["message_id"]}
    rows = await db.fetch("SELECT device_id, status, lease_until, sent_at FROM notify.messages ORDER BY device_id")
    assert [(r["device_id"], r["status"], r["lease_until"]) for r in rows] == [
        ("d1", "sent", None),
        ("d2", "sent", None),
    ]
    attempts = await db.fetch(
        "SELECT m.device_id, a.attempt, a.outcome, a.status_code FROM notify.delivery_attempts a"
        " JOIN notify.messages m ON m.id = a.message_id ORDER BY m.device_id, a.attempt"
    )
    # Each attempt keeps what its push service really answered, the stalled one's too.
    assert [tuple(a) for a in attempts] == [
        ("d1", 1, "accepted", 201),
        ("d2", 1, "unavailable", 503),
        ("d2", 2, "accepted", 201),
    ]


async def test_dead_targets_of_a_batch_are_forgotten_unless_set_again_since(db: asyncpg.Connection) -> None:
    await queued(db, ["d1", "d2", "d3"])
    seen_gone = datetime.now(UTC)
    await db.execute(
        "UPDATE notify.push_targets SET updated_at = $1::timestamptz + interval '1 minute' WHERE recipient_id = 'd2'",
        seen_gone,
    )

    await repo.delete_dead_targets(
        db,
        [
            repo.DeadTarget(Addressee("device", "d1"), "https://fcm.googleapis.com/wp/d1", None),
            repo.DeadTarget(Addressee("device", "d2"), "https://fcm.googleapis.com/wp/d2", seen_gone),
            repo.DeadTarget(Addressee("device", "d3"), "https://fcm.googleapis.com/wp/an-older-one", None),
        ],
    )

    left = await db.fetch("SELECT recipient_id FROM notify.push_targets ORDER BY recipient_id")
    assert [r["recipient_id"] for r in left] == ["d2", "d3"]  # re-registered after it went; a newer address
