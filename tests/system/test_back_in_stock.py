"""Back-in-stock requests through the three running services and a push service that checks VAPID and
decrypts: answered exactly once when the stock comes back, never for an erased device, never about
stock gone again when the message is due, lapsed after the days the shopper was told, withdrawn by
DELETE, and refused with the field for ids that are wrong or not the caller's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.notify.back_in_stock.jobs import lapse_requests, release_held
from services.notify.settings import NotifySettings
from tests.conftest import TESTING_NOTIFY, System, eventually
from tests.support.builders import NIGHT, Shopper, messages, notify_sees, replica_of, settled, shop, shopper
from tests.support.push_service import LocalPushService

SKU = "YOG-1"
PATH = "/v1/devices/{}/back-in-stock/rivoli/" + SKU
CONSUMER = "notify.back_in_stock"


async def sold_out(system: System) -> None:
    """The store rivoli, which stocks yoghurt but has none left (notify's replica knows it)."""
    await shop(system, (SKU, "Plain yoghurt", 0), names={SKU: {"fr": "Yaourt nature"}})


async def ask(system: System, who: Shopper, path: str = PATH, **kw: Any) -> dict[str, Any]:
    r = await system.notify.put(path.format(who.device_id), headers={**who.auth, **kw.pop("headers", {})}, **kw)
    assert r.status_code == 200, r.text
    return r.json()


async def stock(system: System, on_hand: int) -> None:
    r = await system.inventory.put(f"/v1/stores/rivoli/stock/{SKU}", json={"on_hand": on_hand}, headers=system.admin)
    assert r.status_code == 200, r.text


async def answered_every_event(db: asyncpg.Connection, returns: int) -> None:
    """Wait until inventory published `returns` stock.back_in_stock events and notify's consumer has
    handled every delivery of them."""

    async def done() -> bool:
        published = await db.fetchval("SELECT count(*) FROM bus.events WHERE type = 'stock.back_in_stock'")
        waiting = await db.fetchval("SELECT count(*) FROM bus.deliveries WHERE consumer = $1", CONSUMER)
        return published == returns and waiting == 0

    await eventually(done)


async def requests_of(system: System, who: Shopper) -> list[dict[str, Any]]:
    """The device's requests as its export shows them."""
    r = await system.notify.get(f"/v1/devices/{who.device_id}/export", headers=who.auth)
    assert r.status_code == 200, r.text
    return r.json()["notify"]["back_in_stock"]


async def test_a_request_is_answered_exactly_once_even_when_the_event_comes_again(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    await sold_out(system)
    who = await shopper(system, push)  # no consent given: the request itself is the purpose
    first = await ask(system, who)
    again = await ask(system, who)
    assert first["status"] == "open" and again == first  # PUT twice: the same request, unchanged
    assert datetime.fromisoformat(first["lapses_at"]) - datetime.fromisoformat(first["requested_at"]) == timedelta(
        days=30
    )

    await stock(system, 3)
    [message] = await settled(system, who)
    assert (message["purpose"], message["status"], message["request_id"]) == (
        "back_in_stock",
        "sent",
        first["request_id"],
    )
    [received] = push.received(who.sub)
    assert push.refused == []  # signed, encrypted, decrypted as a browser does
    assert received.payload["title"] == "De retour en stock"
    assert received.payload["body"] == "Yaourt nature est de nouveau en stock dans votre magasin."
    assert (received.payload["store_id"], received.payload["sku"], received.payload["lang"]) == ("rivoli", SKU, "fr")
    assert received.topic == received.payload["tag"] and received.headers["urgency"] == "normal"

    # The bus delivers the same event again (a retried delivery), then the yoghurt sells out and comes
    # back: a second stock.back_in_stock. The request was answered: nothing more is said.
    await db.execute("INSERT INTO bus.deliveries (consumer, event_id) VALUES ($1, $2)", CONSUMER, message["event_id"])
    await answered_every_event(db, 1)
    await stock(system, 0)
    await stock(system, 2)
    await answered_every_event(db, 2)
    assert len(await messages(system, who)) == 1 and len(push.received(who.sub)) == 1
    [request] = await requests_of(system, who)
    assert (request["request_id"], request["status"]) == (first["request_id"], "answered") and request["ended_at"]


async def test_two_replicas_racing_over_returns_answer_once(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    await sold_out(system)
    await system.running.start_replica("notify")  # a second bus worker taking events beside the first
    who = await shopper(system, push)
    await ask(system, who)
    for on_hand in (1, 0, 2, 0, 3, 0, 1):  # four returns, published back to back
        await stock(system, on_hand)
    await answered_every_event(db, 4)
    await notify_sees(system, "rivoli", SKU, 1)

    said = [m for m in await settled(system, who) if m["status"] != "suppressed"]
    assert [m["status"] for m in said] == ["sent"] and len(push.received(who.sub)) == 1


async def test_nothing_is_said_to_a_device_that_erased_itself(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    await sold_out(system)
    stays, leaves = await shopper(system, push), await shopper(system, push)
    await ask(system, stays)
    await ask(system, leaves)
    r = await system.notify.delete(f"/v1/devices/{leaves.device_id}", headers=leaves.auth)
    assert r.status_code == 202, r.text
    assert (
        await db.fetchval("SELECT count(*) FROM notify.back_in_stock_requests WHERE device_id = $1", leaves.device_id)
        == 0
    )

    await stock(system, 3)
    await answered_every_event(db, 1)
    [told] = await settled(system, stays)  # the return was answered...
    assert told["status"] == "sent" and len(push.received(stays.sub)) == 1
    assert push.received(leaves.sub) == []  # ...but not to the erased device
    assert await db.fetchval("SELECT count(*) FROM notify.messages WHERE device_id = $1", leaves.device_id) == 0


async def held_answer(system: System, push: LocalPushService) -> tuple[Shopper, dict[str, Any], dict[str, Any]]:
    """A request made at night, answered while quiet hours hold it (shopper, request, held message)."""
    await sold_out(system)
    who = await shopper(system, push, hour=NIGHT)
    request = await ask(system, who)
    await stock(system, 3)
    [held] = await eventually(lambda: messages(system, who))
    assert (held["status"], held["reason"], held["request_id"]) == ("held", "quiet_hours", request["request_id"])
    assert push.pushes == []
    return who, request, held


def morning_after(held: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(held["send_after"]) + timedelta(seconds=30)


async def test_quiet_hours_hold_the_answer_and_it_is_sent_when_they_end_if_still_in_stock(
    system: System, push: LocalPushService
) -> None:
    who, _, held = await held_answer(system, push)
    state = system.running.state("notify")
    assert await release_held(state, morning_after(held) - timedelta(minutes=1)) == 0  # still quiet hours

    assert await release_held(state, morning_after(held)) == 1
    [message] = await settled(system, who)
    assert message["status"] == "sent" and len(push.inbox(who.sub)) == 1


async def test_stock_sold_out_again_by_the_end_of_quiet_hours_is_never_announced_and_the_request_waits(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    who, request, held = await held_answer(system, push)
    [answered] = await requests_of(system, who)
    assert answered["status"] == "answered"
    await stock(system, 0)  # sold out during the night
    await notify_sees(system, "rivoli", SKU, 0)

    assert await release_held(system.running.state("notify"), morning_after(held)) == 1
    [message] = await messages(system, who)
    assert (message["status"], message["reason"], message.get("body")) == ("suppressed", "out_of_stock", None)
    assert push.pushes == []
    # What a shopper expects: never told, so still waiting for the next return, the same request.
    [waiting] = await requests_of(system, who)
    assert (waiting["request_id"], waiting["status"]) == (request["request_id"], "open")

    await stock(system, 4)  # back again: answered (held again, it is still night there)
    await answered_every_event(db, 2)
    dropped, again = await messages(system, who)
    assert (again["status"], again["request_id"]) == ("held", request["request_id"])


async def test_a_request_lapses_after_thirty_days_and_is_not_answered_then(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    await sold_out(system)
    who = await shopper(system, push)
    request = await ask(system, who)
    state, now = system.running.state("notify"), datetime.now(UTC)
    assert await lapse_requests(state, now + timedelta(days=29)) == 0
    assert await lapse_requests(state, now + timedelta(days=30, minutes=1)) == 1
    [lapsed] = await requests_of(system, who)
    assert (lapsed["request_id"], lapsed["status"]) == (request["request_id"], "lapsed")

    await stock(system, 3)
    await answered_every_event(db, 1)
    assert await messages(system, who) == [] and push.pushes == []
    await stock(system, 0)
    await notify_sees(system, "rivoli", SKU, 0)
    assert (await ask(system, who))["request_id"] != request["request_id"]  # asking again starts anew


@pytest.mark.parametrize("configs", [{"notify": NotifySettings(registrations_per_hour=100_000, back_in_stock_days=2)}])
async def test_how_long_a_request_waits_is_a_setting(system: System, push: LocalPushService) -> None:
    assert TESTING_NOTIFY.back_in_stock_days == 30
    await sold_out(system)
    request = await ask(system, await shopper(system, push))
    waits = datetime.fromisoformat(request["lapses_at"]) - datetime.fromisoformat(request["requested_at"])
    assert waits == timedelta(days=2)


async def test_delete_withdraws_the_request_and_nothing_is_said(
    system: System, push: LocalPushService, db: asyncpg.Connection
) -> None:
    await sold_out(system)
    who = await shopper(system, push)
    await ask(system, who)
    r = await system.notify.delete(PATH.format(who.device_id), headers=who.auth)
    assert r.status_code == 204, r.text
    r = await system.notify.delete(PATH.format(who.device_id), headers=who.auth)
    assert r.status_code == 404 and r.json()["field"] == "sku"

    await stock(system, 3)
    await answered_every_event(db, 1)
    assert await messages(system, who) == [] and push.pushes == []
    [withdrawn] = await requests_of(system, who)
    assert withdrawn["status"] == "withdrawn"


async def test_a_put_delete_loop_is_stopped_with_retry_after_and_writes_nothing_more(
    system: System, db: asyncpg.Connection
) -> None:
    await sold_out(system)
    who, other = await shopper(system), await shopper(system)
    long_text = {"shown": "x" * 5000, "policy_version": "2026-01"}
    for _ in range(30):
        await ask(system, who, json=long_text)
        r = await system.notify.delete(PATH.format(who.device_id), headers=who.auth)
        assert r.status_code == 204, r.text
    r = await system.notify.put(PATH.format(who.device_id), headers=who.auth, json=long_text)
    assert r.status_code == 429 and "30 back-in-stock requests an hour" in r.json()["detail"], r.text
    assert 0 < int(r.headers["retry-after"]) <= 3600
    count = "SELECT count(*) FROM notify.back_in_stock_requests WHERE device_id = $1"
    assert await db.fetchval(count, who.device_id) == 30  # the refused one left no row
    assert all(r["status"] == "withdrawn" for r in await requests_of(system, who))
    await ask(system, other, json=long_text)  # a budget per device: another is not held up


async def test_delete_also_drops_an_answer_held_through_quiet_hours(system: System, push: LocalPushService) -> None:
    who, _, held = await held_answer(system, push)
    r = await system.notify.delete(PATH.format(who.device_id), headers=who.auth)
    assert r.status_code == 204, r.text

    assert await release_held(system.running.state("notify"), morning_after(held)) == 0
    [message] = await messages(system, who)
    assert (message["status"], message["reason"]) == ("suppressed", "withdrawn")
    assert push.pushes == []


async def test_the_request_is_kept_with_its_proof_and_in_the_export(system: System, push: LocalPushService) -> None:
    await sold_out(system)
    who = await shopper(system, push)
    shown = "Prévenez-moi quand il revient"
    await ask(system, who, json={"shown": shown, "policy_version": "2026-01"}, headers={"User-Agent": "ShopApp/2.1"})
    [request] = await requests_of(system, who)
    assert (request["store_id"], request["sku"], request["status"]) == ("rivoli", SKU, "open")
    assert (request["shown"], request["policy_version"], request["user_agent"]) == (shown, "2026-01", "ShopApp/2.1")
    assert request["requested_at"] and request["lapses_at"]


async def test_wrong_ids_and_other_callers_are_refused_naming_the_field(system: System, push: LocalPushService) -> None:
    await sold_out(system)
    await system.inventory.put(
        "/v1/products/TEA-1", json={"name": "Green tea", "category": "tea"}, headers=system.admin
    )
    await eventually(lambda: replica_of(system, "rivoli", "TEA-1"))  # known, but never stocked at rivoli
    await shop(system, ("MILK-1", "Milk", 4))
    owner, other = await shopper(system, push), await shopper(system, push)
    mine = f"/v1/devices/{owner.device_id}/back-in-stock"

    for method in ("PUT", "DELETE"):
        for headers, status in ((other.auth, 403), (system.admin, 403), ({}, 401)):
            r = await system.notify.request(method, PATH.format(owner.device_id), headers=headers)
            assert r.status_code == status, (method, headers, r.text)
    for path, status, field in (
        (f"{mine}/opera/{SKU}", 404, "store_id"),
        (f"{mine}/rivoli/NOPE-1", 404, "sku"),
        (f"{mine}/rivoli/TEA-1", 404, "sku"),
        (f"{mine}/rivoli/MILK-1", 409, "sku"),  # in stock now: nothing to wait for
        (f"{mine}/bad!/{SKU}", 422, "store_id"),
    ):
        r = await system.notify.put(path, headers=owner.auth)
        assert (r.status_code, r.json().get("field")) == (status, field), (path, r.text)
    r = await system.notify.put(PATH.format(owner.device_id), json={"shown": 5}, headers=owner.auth)
    assert r.status_code == 422 and r.json()["field"] == "shown", r.text
    assert await requests_of(system, owner) == []
