"""Journeys through the running services: a device enters on its zone event, waits, branches and is
sent a journey's message by the same rules as a campaign's; the control arm is never sent an offer."""

from __future__ import annotations

from typing import Any

from tests.conftest import System, eventually
from tests.support.builders import EVERY_PURPOSE, TEXTS, enter, settled, shop, shopper
from tests.support.push_service import LocalPushService


def journey(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Welcome",
        "entry": {"event": "zone.entered", "zone_kind": "store"},
        "steps": [
            {"id": "look", "type": "wait", "for": "PT2S", "next": "offer"},
            {"id": "offer", "type": "message", "purpose": "offers", "sku": "YOG-1", "message": TEXTS},
        ],
        **fields,
    }


async def put_journey(system: System, journey_id: str, body: dict[str, Any]) -> Any:
    return await system.notify.put(f"/v1/journeys/{journey_id}", json=body, headers=system.admin)


async def test_a_device_walks_in_waits_and_is_sent_the_journeys_offer(system: System, push: LocalPushService) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    r = await put_journey(system, "welcome", journey())
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1
    who = await shopper(system, push, **EVERY_PURPOSE)
    await enter(system, who)

    async def finished() -> list[dict[str, Any]] | None:
        r = await system.notify.get(f"/v1/devices/{who.device_id}/journeys", headers=who.auth)
        found = r.json()["enrollments"]
        return found if found and found[0]["exit_reason"] == "completed" else None

    [enrollment] = await eventually(finished)
    assert enrollment["journey_id"] == "welcome" and enrollment["arm"] == "treatment"
    [message] = await settled(system, who)
    assert message["journey_id"] == "welcome" and message["step"] == "offer"
    assert message["status"] == "sent", message
    results = (await system.notify.get("/v1/journeys/welcome/results", headers=system.admin)).json()
    assert results["entered"] == {"treatment": 1, "control": 0}
    assert results["steps"]["offer"]["reached"] == 1 and results["steps"]["offer"]["sent"] == 1
    assert results["exits"] == {"completed": 1}
