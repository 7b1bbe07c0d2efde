"""A campaign's dry run through the running notify: over a seeded week of history (devices entering
zones, consents granted and withdrawn, earlier messages filling a cap, a visit in quiet hours, a
product out of stock for a day) its numbers are the hand count, and it leaves the message log, the
outbox and the bus as they were."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg

from shared.auth import TokenSigner
from shared.db import connect
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System

YES = {"location": True, "pickup_updates": False, "offers": True, "product_tips": False}
NO_OFFERS = {**YES, "offers": False}
CAMPAIGN = {
    "trigger": {"type": "zone.entered", "store_id": "rivoli", "zone_kind": "department"},
    "sku": "YOG-1",
    "message": {"en": {"title": "Welcome", "body": "{product} at 20% off"}},
}


def day(n: int, hour: int = 12) -> datetime:
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


async def counts(conn: asyncpg.Connection) -> dict[str, Any]:
    tables = ("notify.messages", "notify.delivery_attempts", "bus.events", "bus.deliveries")
    return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


async def test_the_dry_run_counts_what_the_campaign_would_have_done_and_writes_nothing(system: System) -> None:
    conn = await connect(system.settings.database_url)
    try:
        await seed(conn)
        before = await counts(conn)
        marketer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("marketer", "mia@example.com")
        r = await system.notify.post("/v1/campaigns/dry-run", json=CAMPAIGN, headers=System.bearer(marketer))
        assert r.status_code == 200, r.text
        answer = r.json()
        assert {k: answer[k] for k in HAND_COUNT} == HAND_COUNT
        since, until = datetime.fromisoformat(answer["since"]), datetime.fromisoformat(answer["until"])
        assert until - since == timedelta(days=7)
        assert "push_targets" in answer["as_of_now"]
        assert await counts(conn) == before
        assert before["notify.messages"] == 1 and before["bus.events"] == 18  # it saw the seeded rows

        # A paused campaign would have said nothing, and says why, event by event.
        r = await system.notify.post(
            "/v1/campaigns/dry-run", json={**CAMPAIGN, "active": False, "days": 30}, headers=system.admin
        )
        assert r.status_code == 200, r.text
        assert (r.json()["events"], r.json()["messages"], r.json()["suppressed"]) == (12, 0, {"paused": 12})
        assert await counts(conn) == before
    finally:
        await conn.close()


async def test_a_wrong_dry_run_is_refused_naming_the_field_and_needs_a_marketer(system: System) -> None:
    conn = await connect(system.settings.database_url)
    try:
        await conn.execute(
            """
            INSERT INTO notify.products (sku, name, category, names, event_id)
            VALUES ('YOG-1', 'Yoghurt', 'dairy', '{}', 1)
            """
        )
    finally:
        await conn.close()
    cases = {
        "sku": {**CAMPAIGN, "sku": "NOT-SOLD"},
        "days": {**CAMPAIGN, "days": 31},
        "schedule.hours[0].to": {
            **CAMPAIGN,
            "schedule": {"hours": [{"days": ["mon"], "from": "19:00", "to": "09:00"}]},
        },
        "trigger.type": {**CAMPAIGN, "trigger": {"type": "zone.exited"}},
    }
    for field, body in cases.items():
        r = await system.notify.post("/v1/campaigns/dry-run", json=body, headers=system.admin)
        assert (r.status_code, r.json().get("field")) == (422, field), r.text
    r = await system.notify.post("/v1/devices", json={"platform": "web", "locale": "en", "timezone": "UTC"})
    device = System.bearer(r.json()["token"])
    assert (await system.notify.post("/v1/campaigns/dry-run", json=CAMPAIGN, headers=device)).status_code == 403
    manager = TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue(
        "store_manager", "sam@example.com", extra={"stores": ["rivoli"]}
    )
    r = await system.notify.post("/v1/campaigns/dry-run", json=CAMPAIGN, headers=System.bearer(manager))
    assert r.status_code == 403
