"""The audit log: every write by the admin token or an operator, in all three services, with its actor,
its call and the resource before and after, in `GET /v1/audit` in the order they were made; nothing for
a write refused or one that changed nothing, nor for a device's writes; secrets never in it; forgotten
after the retention period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.notify.audit.jobs import forget_old
from shared.audit import REDACTED
from shared.auth import TokenSigner
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System, eventually
from tests.support.builders import STORE, TEXTS, shop, shopper

signer = TokenSigner(TOKEN_KEY, ADMIN_TOKEN)
OPS = "ops@example.com"
SAM = "sam@example.com"
ZONE = {"kind": "store", "circle": {"lat": STORE["lat"], "lng": STORE["lng"], "radius_m": 60}}
CAMPAIGN = {"trigger": {"type": "zone.entered", "zone_kind": "store"}, "sku": "YOG-1", "message": TEXTS}


def operator(role: str, email: str, **extra: Any) -> dict[str, str]:
    return System.bearer(signer.issue(role, email, ttl_s=600, extra=extra))  # type: ignore[arg-type]


async def audit_page(system: System, after: int = 0, limit: int = 1000) -> dict[str, Any]:
    r = await system.notify.get("/v1/audit", params={"after": after, "limit": limit}, headers=system.admin)
    assert r.status_code == 200, r.text
    page: dict[str, Any] = r.json()
    return page


async def entries_after(system: System, cursor: int, count: int) -> list[dict[str, Any]]:
    """The entries after `cursor`, once there are `count` of them (the log is fed by the bus)."""

    async def enough() -> list[dict[str, Any]] | None:
        entries: list[dict[str, Any]] = (await audit_page(system, cursor))["entries"]
        return entries if len(entries) >= count else None

    return await eventually(enough)


async def cursor_after(system: System, action: str) -> int:
    """The id of the latest entry, once the one for `action` (the setup's last write) is in."""

    async def landed() -> int | None:
        entries = (await audit_page(system))["entries"]
        return entries[-1]["id"] if entries and entries[-1]["action"] == action else None

    return await eventually(landed)


async def test_writes_by_the_admin_token_and_operators_are_listed_in_order(system: System) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    cursor = await cursor_after(system, "PUT /v1/stores/rivoli/stock/YOG-1")
    ops, sam = operator("admin", OPS), operator("store_manager", SAM, stores=["rivoli"])

    wider = {**ZONE, "circle": {**ZONE["circle"], "radius_m": 80}}
    assert (await system.geo.put("/v1/stores/rivoli/zones/main", json=wider, headers=system.admin)).status_code == 200
    r = await system.inventory.put("/v1/stores/rivoli/stock/YOG-1", json={"on_hand": 7}, headers=sam)
    assert r.status_code == 200, r.text
    r = await system.notify.put("/v1/campaigns/welcome", json=CAMPAIGN, headers=system.admin)
    assert r.status_code == 200, r.text
    r = await system.notify.put("/v1/campaigns/welcome", json={**CAMPAIGN, "active": False}, headers=ops)
    assert r.status_code == 200, r.text
    r = await system.notify.post("/v1/stores/rivoli/staff", json={"name": "Alex", "locale": "en"}, headers=ops)
    assert r.status_code == 201, r.text
    staff = r.json()

    entries = await entries_after(system, cursor, 5)
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("admin", "PUT /v1/stores/rivoli/zones/main"),
        (SAM, "PUT /v1/stores/rivoli/stock/YOG-1"),
        ("admin", "PUT /v1/campaigns/welcome"),
        (OPS, "PUT /v1/campaigns/welcome"),
        (OPS, "POST /v1/stores/rivoli/staff"),
    ]
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    zone, stock, created, paused, hired = entries
    assert zone["before"]["circle"]["radius_m"] == 60 and zone["after"]["circle"]["radius_m"] == 80
    assert (stock["before"]["on_hand"], stock["after"]["on_hand"]) == (5, 7)
    assert created["before"] is None and created["after"]["active"] is True
    assert paused["before"]["active"] is True and paused["after"]["active"] is False
    assert hired["before"] is None
    assert hired["after"]["staff_id"] == staff["staff_id"] and hired["after"]["name"] == "Alex"
    assert hired["after"]["token"] == REDACTED  # never the staff member's token
    assert all(datetime.fromisoformat(e["at"]) <= datetime.now(UTC) for e in entries)

    # The services' event feeds stay their domain events: the log is read where it is kept.
    feeds = {}
    for name, client in (("geo", system.geo), ("inventory", system.inventory), ("notify", system.notify)):
        r = await client.get("/v1/events", params={"limit": 1000}, headers=system.admin)
        feeds[name] = {e["type"] for e in r.json()["events"]}
    assert "store.changed" in feeds["geo"] and "stock.changed" in feeds["inventory"]
    assert all("audit.recorded" not in types for types in feeds.values())
    assert staff["token"] not in (await system.notify.get("/v1/audit", headers=system.admin)).text


async def test_a_refused_write_and_a_devices_writes_leave_no_entry(system: System) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    cursor = await cursor_after(system, "PUT /v1/stores/rivoli/stock/YOG-1")

    r = await system.notify.put("/v1/campaigns/gone", json={**CAMPAIGN, "sku": "NOPE"}, headers=system.admin)
    assert r.status_code == 422 and r.json()["field"] == "sku"  # checked inside the transaction
    r = await system.inventory.put("/v1/stores/rivoli/stock/NOPE", json={"on_hand": 1}, headers=system.admin)
    assert r.status_code == 404
    r = await system.notify.put("/v1/campaigns/welcome", json=CAMPAIGN, headers=system.admin)
    r = await system.notify.put("/v1/campaigns/welcome", json=CAMPAIGN, headers=system.admin)
    assert r.status_code == 200  # the same document again: it changes nothing, so it is no entry
    assert (await system.notify.delete("/v1/campaigns/welcome", headers=system.admin)).status_code == 204
    r = await system.notify.put("/v1/campaigns/welcome", json=CAMPAIGN, headers=system.admin)
    assert r.status_code == 409  # an ended campaign stays ended: rolled back
    await shopper(system, offers=True, location=True)  # a device registers and records its consents

    r = await system.geo.delete("/v1/stores/rivoli/zones/main", headers=system.admin)
    assert r.status_code == 204  # the last write: once its entry is in, every earlier one would be too
    entries = await entries_after(system, cursor, 3)
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("admin", "PUT /v1/campaigns/welcome"),
        ("admin", "DELETE /v1/campaigns/welcome"),
        ("admin", "DELETE /v1/stores/rivoli/zones/main"),
    ]
    ended = entries[1]
    assert "ended_at" not in ended["before"] and ended["after"]["ended_at"] is not None  # as GET answers it
    assert entries[2]["before"]["zone_id"] == "main" and entries[2]["after"] is None


async def test_the_log_is_paged_oldest_first_for_the_admin_only(system: System) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    cursor = await cursor_after(system, "PUT /v1/stores/rivoli/stock/YOG-1")
    for on_hand in (1, 2, 3):
        r = await system.inventory.put("/v1/stores/rivoli/stock/YOG-1", json={"on_hand": on_hand}, headers=system.admin)
        assert r.status_code == 200, r.text
    await entries_after(system, cursor, 3)

    first = await audit_page(system, cursor, limit=2)
    second = await audit_page(system, first["next_after"], limit=2)
    empty = await audit_page(system, second["next_after"], limit=2)
    assert [e["after"]["on_hand"] for e in first["entries"]] == [1, 2]
    assert [e["after"]["on_hand"] for e in second["entries"]] == [3]
    assert first["next_after"] == first["entries"][-1]["id"]
    assert empty == {"entries": [], "next_after": second["next_after"]}

    marketer = operator("marketer", "mia@example.com")
    assert (await system.notify.get("/v1/audit", headers=marketer)).status_code == 403
    r = await system.notify.get("/v1/audit", params={"limit": 0}, headers=system.admin)
    assert r.status_code == 400 or r.status_code == 422


async def test_entries_are_forgotten_after_the_retention_period(system: System) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    await cursor_after(system, "PUT /v1/stores/rivoli/stock/YOG-1")
    ctx = system.running.state("notify")
    assert ctx.config.audit_retention_days == 365
    kept = len((await audit_page(system))["entries"])
    assert kept >= 4  # the store, its zone, the product and its stock

    assert await forget_old(ctx, datetime.now(UTC) + timedelta(days=364)) == 0
    assert len((await audit_page(system))["entries"]) == kept
    assert await forget_old(ctx, datetime.now(UTC) + timedelta(days=366)) == kept
    assert (await audit_page(system))["entries"] == []


async def test_an_operator_added_changed_and_removed_is_audited(system: System) -> None:
    await shop(system, ("YOG-1", "Plain yoghurt", 5))
    cursor = await cursor_after(system, "PUT /v1/stores/rivoli/stock/YOG-1")
    path = "/v1/operators/mia@example.com"
    assert (await system.notify.put(path, json={"role": "marketer"}, headers=system.admin)).status_code == 200
    r = await system.notify.put(path, json={"role": "store_manager", "stores": ["rivoli"]}, headers=system.admin)
    assert r.status_code == 200, r.text
    assert (await system.notify.delete(path, headers=system.admin)).status_code in (200, 204)
    entries = await entries_after(system, cursor, 3)
    assert [(e["actor"], e["action"]) for e in entries] == [("admin", f"PUT {path}")] * 2 + [
        ("admin", f"DELETE {path}")
    ]
    added, changed, removed = entries
    assert added["before"] is None and added["after"]["role"] == "marketer"
    assert changed["before"]["role"] == "marketer" and changed["after"]["stores"] == ["rivoli"]
    assert removed["before"]["role"] == "store_manager" and removed["after"] is None
