"""The proof of consent is kept, but cannot be grown without bound: the same answer again adds nothing,
changes are rate-limited (a withdrawal is always heard), and the history comes a page at a time."""

from __future__ import annotations

from tests.conftest import System
from tests.support.builders import feed_until, shopper


async def answer(system: System, who, **purposes: bool):
    return await system.notify.put(
        f"/v1/devices/{who.device_id}/consents",
        json={"policy_version": "2026-01", "purposes": purposes, "shown": "We use your location in store."},
        headers=who.auth,
    )


async def test_the_same_answer_again_adds_nothing_to_the_history_and_tells_nobody(system: System) -> None:
    who = await shopper(system)
    first = await answer(system, who, location=True, offers=False)
    again = await answer(system, who, location=True, offers=False)
    assert first.status_code == again.status_code == 200
    assert len(again.json()["history"]) == 1
    events = await feed_until(system, lambda evs: any(e["device_id"] == who.device_id for e in evs), "notify")
    assert [e["type"] for e in events if e["device_id"] == who.device_id] == ["consent.changed"]
    changed = await answer(system, who, location=False)
    assert len(changed.json()["history"]) == 2 and changed.json()["purposes"]["location"] is False


async def test_a_loop_of_changes_is_stopped_with_retry_after(system: System) -> None:
    who = await shopper(system)
    statuses = [(await answer(system, who, offers=i % 2 == 0)).status_code for i in range(25)]
    # Past the limit, a change is refused; repeating the answer on record is no change, and answered.
    assert statuses == [200] * 20 + [429, 200, 429, 200, 429], statuses
    r = await answer(system, who, offers=True)
    assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= 3600
    r = await system.notify.get(f"/v1/devices/{who.device_id}/consents", headers=who.auth)
    assert len(r.json()["history"]) == 20  # what was refused left no trace


async def test_past_the_limit_a_withdrawal_is_still_heard_and_a_new_yes_is_not(system: System) -> None:
    who = await shopper(system)
    statuses = [(await answer(system, who, offers=i % 2 == 1)).status_code for i in range(20)]
    assert statuses == [200] * 20  # the last one a yes
    withdrawn = await answer(system, who, offers=False)
    assert withdrawn.status_code == 200 and withdrawn.json()["purposes"]["offers"] is False, withdrawn.text

    def changes(events: list[dict]) -> list[dict]:
        return [e for e in events if e["device_id"] == who.device_id and e["type"] == "consent.changed"]

    # Told to the other services, as any change (the feed shows it once nothing earlier can still commit).
    def withdrawal_told(events: list[dict]) -> bool:
        return bool(changes(events)) and changes(events)[-1]["data"]["purposes"]["offers"] is False

    told = await feed_until(system, withdrawal_told, "notify")
    assert len(changes(told)) == 21
    r = await answer(system, who, offers=True)
    assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= 3600, r.text
    r = await system.notify.get(f"/v1/devices/{who.device_id}/consents", headers=who.auth)
    assert len(r.json()["history"]) == 21


async def test_the_history_comes_oldest_first_a_page_at_a_time(system: System, db) -> None:
    who = await shopper(system)
    assert (await answer(system, who, location=True)).status_code == 200
    await db.execute(  # a long-lived device's years of answers
        """
        INSERT INTO notify.consent_history (device_id, at, policy_version, purposes)
        SELECT $1, now() - make_interval(days => 1000 - i), '2024-01', '{"location": true}'
        FROM generate_series(1, 230) AS i
        """,
        who.device_id,
    )
    seen, after = 0, 0
    while True:
        r = await system.notify.get(f"/v1/devices/{who.device_id}/consents", params={"after": after}, headers=who.auth)
        page = r.json()
        assert r.status_code == 200 and len(page["history"]) <= 100
        seen += len(page["history"])
        if (after := page.get("history_next_after")) is None:
            break
    assert seen == 231
