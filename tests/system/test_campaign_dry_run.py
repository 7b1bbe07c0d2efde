"""A campaign's dry run through the running notify: over a seeded week of history (devices entering
zones, consents granted and withdrawn, earlier messages filling a cap, a visit in quiet hours, a
product out of stock for a day) its numbers are the hand count, and it leaves the message log, the
outbox and the bus as they were."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.auth import TokenSigner
from shared.db import connect
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System
from tests.support.dry_run_history import CAMPAIGN, HAND_COUNT, row_counts, seed

UNTOUCHED = ("notify.messages", "notify.delivery_attempts", "bus.events", "bus.deliveries")
"""The message log (the outbox), its delivery attempts, and the bus."""


async def test_the_dry_run_counts_what_the_campaign_would_have_done_and_writes_nothing(system: System) -> None:
    conn = await connect(system.settings.database_url)
    try:
        await seed(conn)
        before = await row_counts(conn, UNTOUCHED)
        marketer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("marketer", "mia@example.com")
        r = await system.notify.post("/v1/campaigns/dry-run", json=CAMPAIGN, headers=System.bearer(marketer))
        assert r.status_code == 200, r.text
        answer = r.json()
        assert {k: answer[k] for k in HAND_COUNT} == HAND_COUNT
        since, until = datetime.fromisoformat(answer["since"]), datetime.fromisoformat(answer["until"])
        assert until - since == timedelta(days=7)
        assert "push_targets" in answer["as_of_now"]
        assert await row_counts(conn, UNTOUCHED) == before
        assert before["notify.messages"] == 1 and before["bus.events"] == 18  # it saw the seeded rows

        # A paused campaign would have said nothing, and says why, event by event.
        r = await system.notify.post(
            "/v1/campaigns/dry-run", json={**CAMPAIGN, "active": False, "days": 30}, headers=system.admin
        )
        assert r.status_code == 200, r.text
        assert (r.json()["events"], r.json()["messages"], r.json()["suppressed"]) == (12, 0, {"paused": 12})
        assert await row_counts(conn, UNTOUCHED) == before
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
