"""A journey's dry run through the running notify: over a seeded week of history (devices entering a
department, one leaving it before the branch, consents, an earlier message filling a cap, an entry at
night, a second entry a journey without re-entry ignores) its numbers are the hand count, and it
leaves the message log, the outbox, the enrollments and the bus as they were."""

from __future__ import annotations

import asyncpg

from shared.auth import TokenSigner
from shared.db import connect
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System
from tests.support.dry_run_history import NO_OFFERS, YES, day, device, row_counts, zone_event

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


async def seed(conn: asyncpg.Connection) -> None:
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


HAND_COUNT = {
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


UNTOUCHED = ("notify.messages", "notify.enrollments", "bus.events", "bus.deliveries")
"""The message log (the outbox), the enrollments, and the bus."""


async def test_the_journey_dry_run_counts_what_the_journey_would_have_done_and_writes_nothing(system: System) -> None:
    conn = await connect(system.settings.database_url)
    try:
        await seed(conn)
        before = await row_counts(conn, UNTOUCHED)
        marketer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("marketer", "mia@example.com")
        r = await system.notify.post("/v1/journeys/dry-run", json=JOURNEY, headers=System.bearer(marketer))
        assert r.status_code == 200, r.text
        answer = r.json()
        assert {k: answer[k] for k in HAND_COUNT} == HAND_COUNT
        assert "back_in_stock_requests" in answer["as_of_now"]
        assert before["bus.events"] == 8 and before["notify.messages"] == 1  # it saw the seeded rows
        assert await row_counts(conn, UNTOUCHED) == before
    finally:
        await conn.close()


async def test_a_wrong_journey_dry_run_is_refused_naming_the_path(system: System) -> None:
    look, still, offer, end = JOURNEY["steps"]
    cases = {
        "steps[0].next": {**JOURNEY, "steps": [{**look, "next": "nowhere"}, still, offer, end]},
        "steps[2].sku": {**JOURNEY, "steps": [look, still, {**offer, "sku": "NOT-SOLD"}, end]},
        "days": {**JOURNEY, "days": 0},
    }
    for field, body in cases.items():
        r = await system.notify.post("/v1/journeys/dry-run", json=body, headers=system.admin)
        assert (r.status_code, r.json().get("field")) == (422, field), r.text
    manager = TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue(
        "store_manager", "sam@example.com", extra={"stores": ["rivoli"]}
    )
    r = await system.notify.post("/v1/journeys/dry-run", json=JOURNEY, headers=System.bearer(manager))
    assert r.status_code == 403
