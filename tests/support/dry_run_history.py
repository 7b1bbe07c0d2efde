"""A week of stored history for a campaign's dry run, and one for a journey's, each with its hand
count: devices entering zones over several days, consents granted and withdrawn at given times, an
earlier message filling a cap, a visit in quiet hours, a product out of stock for a day. Seeded as the
services would have left it, with no consumer given any of it (a history, not live events)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg

YES = {"location": True, "pickup_updates": False, "offers": True, "product_tips": False}
NO_OFFERS = {**YES, "offers": False}
CAMPAIGN = {
    "trigger": {"type": "zone.entered", "store_id": "rivoli", "zone_kind": "department"},
    "sku": "YOG-1",
    "message": {"en": {"title": "Welcome", "body": "{product} at 20% off"}},
}


def day(n: int, hour: float = 12) -> datetime:
    """Six days ago at midnight UTC plus n days and the hour: inside the last 7 days, before now."""
    start = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC) - timedelta(days=6)
    return start + timedelta(days=n, hours=hour)


async def zone_event(
    conn: asyncpg.Connection,
    device_id: str,
    at: datetime,
    *,
    kind: str = "department",
    store: str = "rivoli",
    type_: str = "zone.entered",
) -> None:
    """An event as geo logged it then (no consumer is given it: only the history is seeded)."""
    data = {"kind": kind, "confidence": 0.9, "via": "gps", "zones": [{"store_id": store, "zone_id": "dairy"}]}
    if type_ == "zone.exited":
        data |= {"entered_at": at.isoformat(), "duration_s": 60}
    await conn.execute(
        """
        INSERT INTO bus.events (source, type, ts, device_id, store_id, zone_id, data, created_at)
        VALUES ('geo', $1, $2::timestamptz, $3, $4, 'dairy', $5, $2::timestamptz + interval '1 second')
        """,
        type_,
        at,
        device_id,
        store,
        data,
    )


async def device(
    conn: asyncpg.Connection, device_id: str, *answers: tuple[datetime, dict[str, bool]], subscribed: bool = True
) -> None:
    await conn.execute(
        "INSERT INTO notify.devices (device_id, platform, locale, timezone) VALUES ($1, 'web', 'en', 'UTC')", device_id
    )
    for at, purposes in answers:
        await conn.execute(
            """
            INSERT INTO notify.consent_history (device_id, policy_version, purposes, at)
            VALUES ($1, '2026-01', $2, $3)
            """,
            device_id,
            purposes,
            at,
        )
    if subscribed:
        await conn.execute(
            """
            INSERT INTO notify.push_targets (recipient_kind, recipient_id, provider, address, p256dh, auth)
            VALUES ('device', $1, 'webpush', 'https://push.example.net/' || $1, 'key', 'auth')
            """,
            device_id,
        )


async def seed(conn: asyncpg.Connection) -> None:
    long_ago = day(-20)
    await conn.execute(
        """
        INSERT INTO notify.products (sku, name, category, names, event_id) VALUES
            ('YOG-1', 'Plain yoghurt', 'dairy', '{}', 1), ('HAMMER', 'Hammer', 'tools', '{}', 2)
        """
    )
    await conn.execute(
        "INSERT INTO notify.stock (store_id, sku, available, on_hand, event_id) VALUES ('rivoli', 'YOG-1', 5, 5, 3),"
        " ('rivoli', 'HAMMER', 9, 9, 4)"
    )
    # Out of stock from day 2 to day 3, back since.
    for at, before, after in ((day(2, 0), 5, 0), (day(3, 0), 0, 5)):
        await conn.execute(
            """
            INSERT INTO bus.events (source, type, ts, store_id, data, created_at)
            VALUES ('inventory', 'stock.changed', $1, 'rivoli', $2, $1)
            """,
            at,
            {"sku": "YOG-1", "before": before, "after": after, "on_hand": after},
        )
    await device(conn, "alice", (long_ago, YES))
    await device(conn, "bruno", (long_ago, YES), (day(1, 0), NO_OFFERS))  # withdrew on day 1
    await device(conn, "chloe", (long_ago, NO_OFFERS), (day(3, 0), YES))  # granted on day 3
    await device(conn, "dara", (long_ago, YES))
    await device(conn, "emil", (long_ago, YES), subscribed=False)
    # dara was already sent an offer at rivoli on day 3: the day's cap there is full.
    await conn.execute(
        """
        INSERT INTO notify.messages (device_id, event_id, campaign_id, purpose, status, store_id, sku, decided_at)
        VALUES ('dara', 999999, 'coffee', 'offers', 'sent', 'rivoli', 'CAFE-1', $1)
        """,
        day(3, 9),
    )
    for who, at in (
        ("alice", day(0)),  # sent
        ("alice", day(1)),  # sent
        ("alice", day(1, 15)),  # duplicate: the same offer at the same store that day
        ("alice", day(2)),  # out_of_stock
        ("alice", day(5, 22)),  # quiet_hours (22:00 for alice)
        ("bruno", day(0)),  # sent
        ("bruno", day(3)),  # no_consent: withdrawn on day 1
        ("chloe", day(1)),  # no_consent: not yet granted
        ("chloe", day(4)),  # sent
        ("dara", day(3)),  # frequency_cap
        ("emil", day(0)),  # no_subscription
    ):
        await zone_event(conn, who, at)
    # Never counted: another kind of zone, another store, another event type, before the window,
    # a device notify does not know.
    await zone_event(conn, "alice", day(4), kind="store")
    await zone_event(conn, "bruno", day(4), store="opera")
    await zone_event(conn, "alice", day(4, 13), type_="zone.exited")
    await zone_event(conn, "alice", day(-3))
    await zone_event(conn, "ghost", day(0))


HAND_COUNT = {
    "events": 11,
    "devices": 5,
    "messages": 4,
    "alternatives": 0,
    "suppressed": {
        "duplicate": 1,
        "frequency_cap": 1,
        "no_consent": 2,
        "no_subscription": 1,
        "out_of_stock": 1,
        "quiet_hours": 1,
    },
}


async def row_counts(conn: asyncpg.Connection, tables: tuple[str, ...]) -> dict[str, int]:
    """How many rows each table holds: a dry run must leave them as they were."""
    return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


# --- a journey's ---

JOURNEY = {
    "name": "Dairy nudge",
    "entry": {"event": "zone.entered", "store_id": "rivoli", "zone_kind": "department"},
    "steps": [
        {"id": "look", "type": "wait", "for": "PT5M", "next": "still"},
        {"id": "still", "type": "branch", "if": {"in_zone": {"zone_kind": "department"}}, "then": "offer",
         "else": "end"},
        {"id": "offer", "type": "message", "purpose": "offers", "sku": "YOG-1",
         "message": {"en": {"title": "Dairy", "body": "{product} at 20% off"}}},
        {"id": "end", "type": "exit"},
    ],
}  # fmt: skip


async def seed_journey_history(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        INSERT INTO notify.products (sku, name, category, names, event_id)
        VALUES ('YOG-1', 'Yoghurt', 'dairy', '{}', 1)
        """
    )
    await conn.execute(
        "INSERT INTO notify.stock (store_id, sku, available, on_hand, event_id) VALUES ('rivoli', 'YOG-1', 5, 5, 2)"
    )
    for who in ("stays", "leaves", "capped", "twice", "night"):
        await device(conn, who, (day(-20), YES))
    await device(conn, "refused", (day(-20), NO_OFFERS))
    await conn.execute(
        """
        INSERT INTO notify.messages (device_id, event_id, campaign_id, purpose, status, store_id, sku, decided_at)
        VALUES ('capped', 999999, 'coffee', 'offers', 'sent', 'rivoli', 'CAFE-1', $1)
        """,
        day(2, 9),
    )
    await zone_event(conn, "stays", day(0))  # offer sent at 12:05
    await zone_event(conn, "leaves", day(0))
    await zone_event(conn, "leaves", day(0, 12.03), type_="zone.exited")  # gone before the branch: end
    await zone_event(conn, "refused", day(1))  # no_consent
    await zone_event(conn, "capped", day(2))  # frequency_cap: the day's offer at rivoli was said at 09:00
    await zone_event(conn, "twice", day(1))  # sent
    await zone_event(conn, "twice", day(1, 15))  # never again: re-entry is "never"
    await zone_event(conn, "night", day(5, 22))  # quiet_hours


JOURNEY_HAND_COUNT = {
    "events": 7,
    "devices": 6,
    "entered": {"treatment": 6, "control": 0},
    "messages": 2,
    "suppressed": {"frequency_cap": 1, "no_consent": 1, "quiet_hours": 1},
    "steps": {
        "look": {"reached": 6},
        "still": {"reached": 6},
        "offer": {"reached": 5, "sent": 2, "suppressed": {"frequency_cap": 1, "no_consent": 1, "quiet_hours": 1}},
        "end": {"reached": 1},
    },
    "exits": {"completed": 6},
}
