"""Shoppers' and staff members' push subscriptions are kept in one store, saved, cleaned up and used
the same way."""

from __future__ import annotations

import asyncpg

from tests.conftest import System, eventually
from tests.support.builders import customer, pickup_store, place_order, pull_in, staff_member
from tests.support.push_service import LocalPushService


async def staff_messages(db: asyncpg.Connection) -> list[asyncpg.Record]:
    return await db.fetch("SELECT status, reason FROM notify.messages WHERE staff_id IS NOT NULL ORDER BY id")


async def test_a_staff_members_gone_subscription_is_deleted_and_the_shoppers_kept(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    tablet = push.subscriber((await system.notify.get("/v1/vapid-public-key")).json()["public_key"])
    r = await system.notify.put(
        f"/v1/staff/{alex.staff_id}/push-subscription", json=tablet.subscription(), headers=alex.auth
    )
    assert r.status_code == 200, r.text
    push.answer(tablet, 410)
    who = await customer(system, push)
    kinds = await db.fetch("SELECT recipient_kind, recipient_id FROM notify.push_targets ORDER BY 1")
    assert [tuple(k) for k in kinds] == [("device", who.device_id), ("staff", alex.staff_id)]

    await pull_in(system, who, await place_order(system, who))

    async def settled() -> list[asyncpg.Record] | None:
        found = await staff_messages(db)
        return found if found and all(m["status"] in ("failed", "sent") for m in found) else None

    first, *_ = await eventually(settled)
    assert (first["status"], first["reason"]) == ("failed", "subscription_gone")
    kinds = await db.fetch("SELECT recipient_kind, recipient_id FROM notify.push_targets ORDER BY 1")
    assert [tuple(k) for k in kinds] == [("device", who.device_id)]
    assert (await system.notify.get(f"/v1/staff/{alex.staff_id}", headers=alex.auth)).json()["push"] is False


async def test_an_unknown_recipient_is_404_naming_its_id(system: System) -> None:
    r = await system.notify.put(
        "/v1/staff/stf_nobody/push-subscription",
        json={"endpoint": "https://fcm.googleapis.com/fcm/send/x", "keys": {"p256dh": "x", "auth": "y"}},
        headers=system.admin,
    )
    assert (r.status_code, r.json()["field"]) == (404, "staff_id")
    r = await system.notify.delete("/v1/devices/dev_nobody/push-subscription", headers=system.admin)
    assert (r.status_code, r.json()["field"]) == (404, "device_id")
