"""A journey's dry run through the running notify: over a seeded week of history (devices entering a
department, one leaving it before the branch, consents, an earlier message filling a cap, an entry at
night, a second entry a journey without re-entry ignores) its numbers are the hand count, and it
leaves the message log, the outbox, the enrollments and the bus as they were."""

from __future__ import annotations

from shared.auth import TokenSigner
from shared.db import connect
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System
from tests.support.dry_run_history import JOURNEY, JOURNEY_HAND_COUNT, row_counts, seed_journey_history

UNTOUCHED = ("notify.messages", "notify.enrollments", "bus.events", "bus.deliveries")
"""The message log (the outbox), the enrollments, and the bus."""


async def test_the_journey_dry_run_counts_what_the_journey_would_have_done_and_writes_nothing(system: System) -> None:
    conn = await connect(system.settings.database_url)
    try:
        await seed_journey_history(conn)
        before = await row_counts(conn, UNTOUCHED)
        marketer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("marketer", "mia@example.com")
        r = await system.notify.post("/v1/journeys/dry-run", json=JOURNEY, headers=System.bearer(marketer))
        assert r.status_code == 200, r.text
        answer = r.json()
        assert {k: answer[k] for k in JOURNEY_HAND_COUNT} == JOURNEY_HAND_COUNT
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
