"""A message whose sender died mid-send: sent once more with the same Topic, never a third time."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from services.notify.outbox import repository as repo


async def cut_short(db: asyncpg.Connection, *, crash_resends: int, expires_in: timedelta) -> int:
    """A message left `sending` by a sender that died, its lease run out, its attempt never finished."""
    await db.execute(
        "INSERT INTO notify.devices (device_id, platform, locale, timezone) VALUES ('d1', 'web', 'fr', 'UTC')"
        " ON CONFLICT DO NOTHING"
    )
    message_id = await db.fetchval(
        """
        INSERT INTO notify.messages (device_id, event_id, campaign_id, purpose, status, topic, attempts,
                                     crash_resends, lease_until, expires_at)
        VALUES ('d1', (SELECT coalesce(max(event_id), 0) + 1 FROM notify.messages), 'c', 'offers', 'sending', 't', 1,
                $1, now() - interval '1 second', now() + $2)
        RETURNING id
        """,
        crash_resends,
        expires_in,
    )
    await db.execute(
        "INSERT INTO notify.delivery_attempts (message_id, attempt, push_origin) VALUES ($1, 1, 'https://x')",
        message_id,
    )
    return message_id


async def state_of(db: asyncpg.Connection, message_id: int) -> tuple:
    return tuple(
        await db.fetchrow(
            """
            SELECT m.status, m.reason, a.outcome
            FROM notify.messages m JOIN notify.delivery_attempts a ON a.message_id = m.id
            WHERE m.id = $1
            """,
            message_id,
        )
    )


async def test_after_a_first_crash_the_message_is_sent_again(db: asyncpg.Connection) -> None:
    message_id = await cut_short(db, crash_resends=0, expires_in=timedelta(minutes=10))
    await repo.recover_expired_leases(db)
    assert await state_of(db, message_id) == ("pending", None, "interrupted")


async def test_after_a_second_crash_it_is_failed_as_uncertain(db: asyncpg.Connection) -> None:
    message_id = await cut_short(db, crash_resends=1, expires_in=timedelta(minutes=10))
    await repo.recover_expired_leases(db)
    assert await state_of(db, message_id) == ("failed", "uncertain_after_crash", "interrupted")


async def test_a_message_past_its_moment_is_not_sent_again(db: asyncpg.Connection) -> None:
    message_id = await cut_short(db, crash_resends=0, expires_in=timedelta(seconds=-1))
    await repo.recover_expired_leases(db)
    assert await state_of(db, message_id) == ("failed", "uncertain_after_crash", "interrupted")


async def test_a_live_lease_is_left_alone(db: asyncpg.Connection) -> None:
    message_id = await cut_short(db, crash_resends=0, expires_in=timedelta(minutes=10))
    await db.execute("UPDATE notify.messages SET lease_until = now() + interval '1 minute' WHERE id = $1", message_id)
    assert await repo.recover_expired_leases(db) == []
    assert await state_of(db, message_id) == ("sending", None, None)
