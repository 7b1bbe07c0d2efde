"""Staff of a store: who may create them, what they see (their own store only), their push
subscription, the alerts list and the ack, the stream's door, the staff page itself, and what the
shopper is told about their pickup."""

from __future__ import annotations

import re

import pytest

from shared.auth import TokenSigner
from tests.conftest import ADMIN_TOKEN, TOKEN_KEY, System, eventually
from tests.support.builders import (
    STORE,
    StaffStream,
    customer,
    messages,
    pickup_store,
    place_order,
    pull_in,
    staff_member,
)
from tests.support.push_service import LocalPushService


async def alerts_of(system: System, auth: dict[str, str], store_id: str = "rivoli") -> list[dict]:
    r = await system.notify.get(f"/v1/stores/{store_id}/alerts", headers=auth)
    assert r.status_code == 200, r.text
    return r.json()["alerts"]


async def arrival(system: System, push: LocalPushService | None = None) -> tuple[dict, dict]:
    """A shopper has pulled into the bay: (the arrival alert as the admin reads it, the shopper)."""
    who = await customer(system, push)
    order_id = await place_order(system, who)
    await pull_in(system, who, order_id)
    found = await eventually(lambda: _kinds(system, "arrived"))
    return found[0], who


async def _kinds(system: System, kind: str) -> list[dict]:
    return [a for a in await alerts_of(system, system.admin) if a["kind"] == kind]


async def test_only_the_operator_creates_staff_and_each_gets_a_token_for_their_store(system: System) -> None:
    await pickup_store(system)
    staff_token = TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("staff", "stf_x", store_id="rivoli")
    r = await system.notify.post("/v1/stores/rivoli/staff", json={"name": "Eve"}, headers=System.bearer(staff_token))
    assert r.status_code == 403
    r = await system.notify.post("/v1/stores/rivoli/staff", json={"name": "Alex"}, headers=system.admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["staff_id"].startswith("stf_") and (body["store_id"], body["name"], body["locale"]) == (
        "rivoli",
        "Alex",
        "en",
    )
    me = await system.notify.get(f"/v1/staff/{body['staff_id']}", headers=System.bearer(body["token"]))
    assert me.status_code == 200 and me.json()["push"] is False


@pytest.mark.parametrize(
    ("store_id", "body", "status", "field"),
    [
        ("nowhere", {"name": "Alex"}, 404, "store_id"),
        ("rivoli", {"name": ""}, 422, "name"),
        ("rivoli", {}, 422, "name"),
        ("rivoli", {"name": "\u0000Alex"}, 422, "name"),
        ("rivoli", {"name": "Alex\u202e"}, 422, "name"),
        ("rivoli", {"name": "Alex", "locale": "French!"}, 422, "locale"),
    ],
)
async def test_staff_need_a_known_store_and_a_name(system: System, store_id, body, status, field) -> None:
    await pickup_store(system)
    r = await system.notify.post(f"/v1/stores/{store_id}/staff", json=body, headers=system.admin)
    assert (r.status_code, r.json().get("field")) == (status, field), r.text


async def test_staff_see_their_own_store_and_profile_only(system: System) -> None:
    await pickup_store(system)
    await system.geo.put("/v1/stores/opera", json={**STORE, "name": "Opéra"}, headers=system.admin)
    alex, sam = await staff_member(system, name="Alex"), await staff_member(system, "opera", name="Sam")
    assert (await system.notify.get("/v1/stores/opera/alerts", headers=alex.auth)).status_code == 403
    assert (await system.notify.get(f"/v1/staff/{sam.staff_id}", headers=alex.auth)).status_code == 403
    r = await system.notify.post("/v1/stores/opera/alerts/stream-ticket", headers=alex.auth)
    assert r.status_code == 403


async def test_a_staff_push_subscription_is_checked_like_a_shoppers(system: System, push: LocalPushService) -> None:
    await pickup_store(system)
    alex, sam = await staff_member(system, name="Alex"), await staff_member(system, name="Sam")
    good = push.subscriber((await system.notify.get("/v1/vapid-public-key")).json()["public_key"]).subscription()
    url = f"/v1/staff/{alex.staff_id}/push-subscription"
    for change, field in [
        ({"endpoint": "http://169.254.169.254/latest/meta-data/"}, "endpoint"),
        ({"endpoint": "https://10.0.0.5/push/abc"}, "endpoint"),
        ({"keys": {"p256dh": "BAAA", "auth": good["keys"]["auth"]}}, "keys.p256dh"),
        ({"keys": {"p256dh": good["keys"]["p256dh"], "auth": "c2hvcnQ"}}, "keys.auth"),
    ]:
        r = await system.notify.put(url, json={**good, **change}, headers=alex.auth)
        assert (r.status_code, r.json().get("field")) == (422, field), (change, r.text)
    assert (await system.notify.put(url, json=good, headers=sam.auth)).status_code == 403
    r = await system.notify.put(url, json=good, headers=alex.auth)
    assert r.status_code == 200 and r.json()["endpoint"] == good["endpoint"]
    assert (await system.notify.get(f"/v1/staff/{alex.staff_id}", headers=alex.auth)).json()["push"] is True
    assert (await system.notify.delete(url, headers=alex.auth)).status_code == 204
    assert (await system.notify.get(f"/v1/staff/{alex.staff_id}", headers=alex.auth)).json()["push"] is False


async def test_alerts_are_listed_newest_first_in_the_staff_members_language(system: System) -> None:
    await pickup_store(system)
    claire = await staff_member(system, name="Claire", locale="fr-FR")
    arrived, _ = await arrival(system)
    listed = await alerts_of(system, claire.auth)
    assert [a["kind"] for a in listed] == ["arrived", "approaching"]
    assert listed[0]["text"] == "Camille est là — bay 2" and arrived["text"] == "Camille has arrived — bay 2"
    assert re.fullmatch(r"Camille \(commande [A-Z0-9]{4}\) arrive dans \d+ min — bay 2", listed[1]["text"])


async def test_an_ack_records_who_is_going_out_and_the_first_answer_stands(system: System) -> None:
    await pickup_store(system)
    alex, sam = await staff_member(system, name="Alex"), await staff_member(system, name="Sam")
    arrived, _ = await arrival(system)
    first = await system.notify.post(f"/v1/alerts/{arrived['alert_id']}/ack", headers=alex.auth)
    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["acked_by"], first.json()["acked_by_name"]) == (
        "acked",
        alex.staff_id,
        "Alex",
    )
    again = await system.notify.post(f"/v1/alerts/{arrived['alert_id']}/ack", headers=sam.auth)
    assert again.status_code == 200 and again.json()["acked_by"] == alex.staff_id
    assert again.json()["acked_at"] == first.json()["acked_at"]


async def test_another_stores_alert_is_not_found(system: System) -> None:
    await pickup_store(system)
    arrived, _ = await arrival(system)
    elsewhere = System.bearer(TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("staff", "stf_o", store_id="opera"))
    r = await system.notify.post(f"/v1/alerts/{arrived['alert_id']}/ack", headers=elsewhere)
    assert r.status_code == 404
    r = await system.notify.post("/v1/alerts/999999/ack", headers=system.admin)
    assert r.status_code == 404


async def test_an_alert_closed_before_anyone_answered_cannot_be_acked(system: System) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    who = await customer(system, None)
    order_id = await place_order(system, who)
    trip_id = await pull_in(system, who, order_id)
    [arrived] = await eventually(lambda: _kinds(system, "arrived"))
    r = await system.geo.post(f"/v1/trips/{trip_id}/cancel", headers=who.auth)
    assert r.status_code == 200, r.text
    await eventually(lambda: _all_closed(system))
    r = await system.notify.post(f"/v1/alerts/{arrived['alert_id']}/ack", headers=alex.auth)
    assert (r.status_code, r.json()["field"]) == (409, "alert_id")
    assert {a["outcome"] for a in await alerts_of(system, alex.auth)} == {"canceled"}


async def _all_closed(system: System) -> bool:
    return all(a["status"] == "closed" for a in await alerts_of(system, system.admin))


async def test_the_stream_needs_a_staff_token_or_ticket_of_that_store(system: System) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    for headers, params, status in [
        ({}, {}, 401),
        ({}, {"ticket": "not-a-ticket"}, 401),
        (System.bearer(TokenSigner(TOKEN_KEY, ADMIN_TOKEN).issue("staff", "stf_o", store_id="opera")), {}, 403),
    ]:
        async with StaffStream(system.notify, "rivoli", headers, params) as stream:
            assert stream.status == status
    ticket = (await system.notify.post("/v1/stores/rivoli/alerts/stream-ticket", headers=alex.auth)).json()
    async with StaffStream(system.notify, "rivoli", {}, {"ticket": ticket["ticket"]}) as stream:
        assert stream.status == 200
    # A ticket opens the stream and nothing else.
    r = await system.notify.get("/v1/stores/rivoli/alerts", headers=System.bearer(ticket["ticket"]))
    assert r.status_code == 401


async def test_the_staff_page_is_served_by_notify_itself(system: System) -> None:
    page = await system.notify.get("/staff")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert re.findall(r'(?:src|href)="([^"]+)"', page.text) == ["/staff/staff.css", "/staff/staff.js"]
    for path, kind in [
        ("/staff/staff.js", "text/javascript"),
        ("/staff/staff.css", "text/css"),
        ("/staff-sw.js", "text/javascript"),
    ]:
        r = await system.notify.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind), path
        assert "http://" not in r.text and "https://" not in r.text, path  # nothing from elsewhere
    assert (await system.notify.get("/staff/secrets.json")).status_code == 404


async def test_the_shopper_hears_ready_and_arrival_with_consent(system: System, push: LocalPushService) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    who = await customer(system, push)
    order_id = await place_order(system, who)
    await system.inventory.post(f"/v1/orders/{order_id}/ready", headers=alex.auth)
    await pull_in(system, who, order_id)
    said = await eventually(lambda: _settled(system, who, 2))
    assert [(m["title"], m["status"]) for m in said] == [("Your order is ready", "sent"), ("We see you", "sent")]


async def test_without_pickup_consent_the_updates_are_recorded_as_suppressed(
    system: System, push: LocalPushService
) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    who = await customer(system, push, pickup_updates=False)
    order_id = await place_order(system, who)
    await system.inventory.post(f"/v1/orders/{order_id}/ready", headers=alex.auth)
    await pull_in(system, who, order_id)
    said = await eventually(lambda: _settled(system, who, 2))
    assert [(m["purpose"], m["status"], m["reason"], m.get("body")) for m in said] == [
        ("pickup_updates", "suppressed", "no_consent", None)
    ] * 2
    assert push.received(who.sub) == []
    # Staff are told all the same: serving the customer is not a message to them. (Their alerts have a
    # consumer of their own, which may still be on the trip's events when the messages are settled.)
    await eventually(lambda: _kinds(system, "arrived"))
    assert [a["kind"] for a in await alerts_of(system, alex.auth)] == ["arrived", "approaching"]


async def _settled(system: System, who, count: int) -> list[dict] | None:
    found = await messages(system, who)
    return found if len(found) >= count and all(m["status"] not in ("pending", "sending") for m in found) else None


async def test_a_shopper_erased_on_the_way_leaves_the_stores_alerts_closed_and_nameless(system: System) -> None:
    await pickup_store(system)
    alex = await staff_member(system)
    arrived, who = await arrival(system)
    r = await system.notify.delete(f"/v1/devices/{who.device_id}", headers=who.auth)
    assert r.status_code == 202, r.text
    alerts = await alerts_of(system, alex.auth)
    texts = [a["text"] for a in alerts]
    assert texts[0] == "A customer has arrived — bay 2" and "Camille" not in " ".join(texts)
    assert {(a["status"], a["outcome"]) for a in alerts} == {("closed", "canceled")}
    r = await system.notify.post(f"/v1/alerts/{arrived['alert_id']}/ack", headers=alex.auth)
    assert r.status_code == 409
