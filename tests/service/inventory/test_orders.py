"""Pickup orders over HTTP against real PostgreSQL: reservations that never oversell, idempotent
retries, the lifecycle and who may move it, and the events each step publishes."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.inventory import ADMIN, Inventory, device, service, staff


@pytest.fixture
async def shop(inventory: Inventory) -> Inventory:
    """Store "rivoli" with 10 oat milk (OAT) and 5 yoghurts (YOG); store "opera" with 10 OAT."""
    await inventory.product("OAT", "Oat milk 1L")
    await inventory.product("YOG", "Plain yoghurt")
    await inventory.stock("rivoli", "OAT", 10)
    await inventory.stock("rivoli", "YOG", 5)
    await inventory.stock("opera", "OAT", 10)
    return inventory


async def order_events(db: asyncpg.Connection, order_id: str) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT type, device_id, store_id, order_id, data FROM bus.events WHERE order_id = $1 ORDER BY id", order_id
    )


# ------------------------------------------------------------------------------------ reserving


async def test_an_order_reserves_every_line_and_says_so(shop: Inventory) -> None:
    r = await shop.order("dev_a", "rivoli", [("YOG", 2), ("OAT", 3)], display_name="  Camille  ")
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "reserved" and order["order_id"].startswith("ord_")
    assert order["store_id"] == "rivoli" and order["device_id"] == "dev_a"
    assert order["display_name"] == "Camille"
    assert order["lines"] == [{"sku": "OAT", "qty": 3}, {"sku": "YOG", "qty": 2}]
    assert order["created_at"] and order["ready_at"] is None and order["expires_at"]
    assert await shop.available("rivoli", "OAT") == 7
    assert await shop.available("rivoli", "YOG") == 3


async def test_a_line_that_cannot_be_covered_reserves_nothing_and_names_the_sku(shop: Inventory) -> None:
    r = await shop.order("dev_a", "rivoli", [("OAT", 2), ("YOG", 6)])
    assert r.status_code == 409
    body = r.json()
    assert body["sku"] == "YOG" and body["available"] == 5
    assert body["shortages"] == [{"sku": "YOG", "wanted": 6, "available": 5}]
    assert await shop.available("rivoli", "OAT") == 10  # the line that fitted was not kept either


async def test_a_product_the_store_does_not_stock_is_409_with_nothing_available(shop: Inventory) -> None:
    await shop.product("TEA", "Green tea")
    r = await shop.order("dev_a", "rivoli", [("TEA", 1)])
    assert r.status_code == 409 and r.json()["sku"] == "TEA" and r.json()["available"] == 0


async def test_an_unknown_sku_is_404_naming_it(shop: Inventory) -> None:
    r = await shop.order("dev_a", "rivoli", [("OAT", 1), ("NOPE", 1)])
    assert r.status_code == 404 and r.json()["sku"] == "NOPE"
    assert await shop.available("rivoli", "OAT") == 10


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ([{"sku": "OAT", "qty": 0}], "lines[0].qty"),
        ([{"sku": "OAT", "qty": 1000}], "lines[0].qty"),
        ([{"sku": "OAT", "qty": 1}, {"sku": "OAT", "qty": 2}], "lines[1].sku"),
        ([{"sku": "bad sku", "qty": 1}], "lines[0].sku"),
        ([{"qty": 1}], "lines[0].sku"),
    ],
)
async def test_bad_lines_are_422_naming_the_field(shop: Inventory, lines: list, field: str) -> None:
    r = await shop.http.post("/v1/orders", json={"store_id": "rivoli", "lines": lines}, headers=device("dev_a"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert await shop.available("rivoli", "OAT") == 10


async def test_a_display_name_over_40_characters_is_422_and_a_blank_one_is_none(shop: Inventory) -> None:
    r = await shop.order("dev_a", "rivoli", [("OAT", 1)], display_name="x" * 41)
    assert r.status_code == 422 and r.json()["field"] == "display_name"
    order = await shop.placed("dev_a", "rivoli", [("OAT", 1)], display_name="   ")
    assert order["display_name"] is None


async def test_only_a_device_places_orders(shop: Inventory) -> None:
    body = {"store_id": "rivoli", "lines": [{"sku": "OAT", "qty": 1}]}
    for headers in (ADMIN, staff("rivoli"), service()):
        assert (await shop.http.post("/v1/orders", json=body, headers=headers)).status_code == 403
    assert (await shop.http.post("/v1/orders", json=body)).status_code == 401


async def test_thirty_shoppers_racing_for_the_last_two_units_get_two_orders_and_28_conflicts(
    shop: Inventory, db: asyncpg.Connection
) -> None:
    await shop.stock("rivoli", "YOG", 2)
    results = await asyncio.gather(*(shop.order(f"dev_{i}", "rivoli", [("YOG", 1)]) for i in range(30)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] * 2 + [409] * 28
    assert all(r.json()["sku"] == "YOG" and r.json()["available"] == 0 for r in results if r.status_code == 409)
    assert await shop.available("rivoli", "YOG") == 0
    assert await db.fetchval("SELECT count(*) FROM inventory.orders") == 2


async def test_racing_orders_over_the_same_skus_in_opposite_orders_never_deadlock(shop: Inventory) -> None:
    await shop.stock("rivoli", "OAT", 100)
    await shop.stock("rivoli", "YOG", 100)
    forward, backward = [("OAT", 1), ("YOG", 1)], [("YOG", 1), ("OAT", 1)]
    results = await asyncio.gather(
        *(shop.order(f"dev_{i}", "rivoli", forward if i % 2 else backward) for i in range(40))
    )
    assert [r.status_code for r in results] == [201] * 40
    assert await shop.available("rivoli", "OAT") == 60 and await shop.available("rivoli", "YOG") == 60


# ---------------------------------------------------------------------------------- idempotency


async def test_a_retry_with_the_same_key_and_body_returns_the_same_order(shop: Inventory) -> None:
    first = await shop.order("dev_a", "rivoli", [("OAT", 2)], key="k-1", display_name="Camille")
    again = await shop.order("dev_a", "rivoli", [("OAT", 2)], key="k-1", display_name="Camille")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert await shop.available("rivoli", "OAT") == 8


async def test_concurrent_retries_with_one_key_reserve_once(shop: Inventory) -> None:
    results = await asyncio.gather(*(shop.order("dev_a", "rivoli", [("OAT", 2)], key="k-1") for _ in range(8)))
    assert sorted(r.status_code for r in results) == [200] * 7 + [201]
    assert len({r.json()["order_id"] for r in results}) == 1
    assert await shop.available("rivoli", "OAT") == 8


async def test_the_same_key_with_another_body_is_422_and_changes_nothing(shop: Inventory) -> None:
    await shop.order("dev_a", "rivoli", [("OAT", 2)], key="k-1")
    for lines, extra in (([("OAT", 3)], {}), ([("OAT", 2)], {"display_name": "Léa"}), ([("YOG", 2)], {})):
        r = await shop.order("dev_a", "rivoli", lines, key="k-1", **extra)
        assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"
    assert await shop.available("rivoli", "OAT") == 8
    assert await shop.available("rivoli", "YOG") == 5


async def test_keys_are_scoped_per_device(shop: Inventory) -> None:
    a = await shop.order("dev_a", "rivoli", [("OAT", 1)], key="same")
    b = await shop.order("dev_b", "rivoli", [("OAT", 1)], key="same")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["order_id"] != b.json()["order_id"]


async def test_a_key_whose_order_failed_can_be_retried(shop: Inventory) -> None:
    assert (await shop.order("dev_a", "rivoli", [("OAT", 11)], key="k-1")).status_code == 409
    await shop.stock("rivoli", "OAT", 20)
    assert (await shop.order("dev_a", "rivoli", [("OAT", 11)], key="k-1")).status_code == 201


async def test_a_malformed_idempotency_key_is_422(shop: Inventory) -> None:
    r = await shop.order("dev_a", "rivoli", [("OAT", 1)], key="x" * 201)
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"


# ------------------------------------------------------------------------------------ lifecycle


async def test_reserved_ready_collected_turns_the_reservation_into_a_sale(
    shop: Inventory, db: asyncpg.Connection
) -> None:
    order = await shop.placed("dev_a", "rivoli", [("OAT", 3)])
    r = await shop.move(order["order_id"], "ready", staff("rivoli"))
    assert r.status_code == 200 and r.json()["status"] == "ready" and r.json()["ready_at"]
    r = await shop.move(order["order_id"], "collected", staff("rivoli"))
    assert r.status_code == 200 and r.json()["status"] == "collected" and r.json()["collected_at"]
    assert "expires_at" not in r.json()
    item = (await shop.http.get("/v1/stores/rivoli/stock", params={"sku": "OAT"}, headers=ADMIN)).json()["items"][0]
    assert item == {"sku": "OAT", "on_hand": 7, "reserved": 0, "available": 7}
    sale = await db.fetchrow(
        "SELECT kind, reason, before, after, actor, order_id FROM inventory.stock_ledger WHERE kind = 'sale'"
    )
    assert dict(sale) == {
        "kind": "sale",
        "reason": "sale",
        "before": 10,
        "after": 7,
        "actor": "staff:stf_1",
        "order_id": order["order_id"],
    }


@pytest.mark.parametrize("status", ["reserved", "ready"])
async def test_cancel_releases_the_stock(shop: Inventory, status: str) -> None:
    order = await shop.placed("dev_a", "rivoli", [("OAT", 3), ("YOG", 5)])
    if status == "ready":
        await shop.move(order["order_id"], "ready", staff("rivoli"))
    r = await shop.move(order["order_id"], "cancel", device("dev_a"))
    assert r.status_code == 200
    assert r.json()["status"] == "canceled" and r.json()["cancel_reason"] == "canceled_by_device"
    assert await shop.available("rivoli", "OAT") == 10 and await shop.available("rivoli", "YOG") == 5


ILLEGAL = [
    ("reserved", "collected"),
    ("ready", "ready"),
    ("collected", "ready"),
    ("collected", "collected"),
    ("collected", "cancel"),
    ("canceled", "ready"),
    ("canceled", "collected"),
    ("canceled", "cancel"),
]


async def _order_in(shop: Inventory, status: str) -> str:
    order_id = (await shop.placed("dev_a", "rivoli", [("OAT", 1)]))["order_id"]
    path = {"reserved": [], "ready": ["ready"], "collected": ["ready", "collected"], "canceled": ["cancel"]}[status]
    for action in path:
        assert (await shop.move(order_id, action, staff("rivoli"))).status_code == 200
    return order_id


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
async def test_every_illegal_move_is_409_and_changes_nothing(shop: Inventory, status: str, action: str) -> None:
    order_id = await _order_in(shop, status)
    before = await shop.available("rivoli", "OAT")
    r = await shop.move(order_id, action, staff("rivoli"))
    assert r.status_code == 409 and r.json()["status"] == 409 and r.json()["order_status"] == status
    assert (await shop.http.get(f"/v1/orders/{order_id}", headers=ADMIN)).json()["status"] == status
    assert await shop.available("rivoli", "OAT") == before


async def test_two_staff_racing_to_hand_over_one_order_sell_it_once(shop: Inventory) -> None:
    order_id = await _order_in(shop, "ready")
    results = await asyncio.gather(*(shop.move(order_id, "collected", staff("rivoli", f"s{i}")) for i in range(6)))
    assert sorted(r.status_code for r in results) == [200] + [409] * 5
    item = (await shop.http.get("/v1/stores/rivoli/stock", params={"sku": "OAT"}, headers=ADMIN)).json()["items"][0]
    assert (item["on_hand"], item["reserved"]) == (9, 0)


async def test_cancel_racing_collection_does_one_or_the_other(shop: Inventory) -> None:
    order_id = await _order_in(shop, "ready")
    cancel, collect = await asyncio.gather(
        shop.move(order_id, "cancel", device("dev_a")), shop.move(order_id, "collected", staff("rivoli"))
    )
    assert sorted([cancel.status_code, collect.status_code]) == [200, 409]
    item = (await shop.http.get("/v1/stores/rivoli/stock", params={"sku": "OAT"}, headers=ADMIN)).json()["items"][0]
    assert item["reserved"] == 0 and item["on_hand"] == (10 if cancel.status_code == 200 else 9)


# ------------------------------------------------------------------------------------ who may do what


async def test_its_device_staff_of_its_store_admin_and_services_see_an_order_others_get_404(shop: Inventory) -> None:
    order_id = (await shop.placed("dev_a", "rivoli", [("OAT", 1)]))["order_id"]
    for headers in (device("dev_a"), staff("rivoli"), ADMIN, service("geo")):
        r = await shop.http.get(f"/v1/orders/{order_id}", headers=headers)
        assert r.status_code == 200 and r.json()["device_id"] == "dev_a" and r.json()["store_id"] == "rivoli"
    for headers in (device("dev_b"), staff("opera")):
        stranger = await shop.http.get(f"/v1/orders/{order_id}", headers=headers)
        unknown = await shop.http.get("/v1/orders/ord_NOSUCHORDER", headers=headers)
        assert stranger.status_code == unknown.status_code == 404
        assert stranger.json()["detail"].replace(order_id, "?") == unknown.json()["detail"].replace(
            "ord_NOSUCHORDER", "?"
        )


async def test_staff_of_another_store_cannot_move_an_order(shop: Inventory) -> None:
    order_id = (await shop.placed("dev_a", "rivoli", [("OAT", 1)]))["order_id"]
    for action in ("ready", "collected", "cancel"):
        assert (await shop.move(order_id, action, staff("opera"))).status_code == 404
    assert (await shop.http.get(f"/v1/orders/{order_id}", headers=ADMIN)).json()["status"] == "reserved"


async def test_a_shopper_can_cancel_but_not_prepare_or_hand_over_its_order(shop: Inventory) -> None:
    order_id = (await shop.placed("dev_a", "rivoli", [("OAT", 1)]))["order_id"]
    assert (await shop.move(order_id, "ready", device("dev_a"))).status_code == 403
    assert (await shop.move(order_id, "ready", device("dev_b"))).status_code == 404
    assert (await shop.move(order_id, "cancel", device("dev_b"))).status_code == 404
    assert (await shop.move(order_id, "cancel", device("dev_a"), reason="changed my mind")).json()["cancel_reason"] == (
        "changed my mind"
    )


async def test_admin_may_move_any_order(shop: Inventory) -> None:
    order_id = (await shop.placed("dev_a", "opera", [("OAT", 1)]))["order_id"]
    assert (await shop.move(order_id, "ready", ADMIN)).status_code == 200
    assert (await shop.move(order_id, "collected", ADMIN)).status_code == 200


async def test_staff_list_their_open_orders_and_a_device_its_own(shop: Inventory) -> None:
    a = (await shop.placed("dev_a", "rivoli", [("OAT", 1)]))["order_id"]
    b = (await shop.placed("dev_b", "rivoli", [("YOG", 1)]))["order_id"]
    await shop.placed("dev_a", "opera", [("OAT", 1)])
    await shop.move(b, "cancel", device("dev_b"))
    r = await shop.http.get("/v1/stores/rivoli/orders", headers=staff("rivoli"))
    assert [o["order_id"] for o in r.json()["orders"]] == [a]
    r = await shop.http.get("/v1/stores/rivoli/orders", params={"status": "canceled"}, headers=staff("rivoli"))
    assert [o["order_id"] for o in r.json()["orders"]] == [b]
    assert (await shop.http.get("/v1/stores/rivoli/orders", headers=staff("opera"))).status_code == 403
    r = await shop.http.get("/v1/devices/dev_a/orders", headers=device("dev_a"))
    assert sorted(o["store_id"] for o in r.json()["orders"]) == ["opera", "rivoli"]
    assert (await shop.http.get("/v1/devices/dev_a/orders", headers=device("dev_b"))).status_code == 403


# --------------------------------------------------------------------------------------- events


async def test_each_step_publishes_its_order_event_with_the_order_in_it(
    shop: Inventory, db: asyncpg.Connection
) -> None:
    order_id = (await shop.placed("dev_a", "rivoli", [("OAT", 2)], display_name="Camille"))["order_id"]
    await shop.move(order_id, "ready", staff("rivoli"))
    await shop.move(order_id, "collected", staff("rivoli"))
    events = await order_events(db, order_id)
    assert [e["type"] for e in events] == ["order.reserved", "order.ready", "order.collected"]
    for e in events:
        assert (e["device_id"], e["store_id"], e["order_id"]) == ("dev_a", "rivoli", order_id)
        assert e["data"] == {"lines": [{"sku": "OAT", "qty": 2}], "display_name": "Camille"}


async def test_a_cancel_event_carries_its_reason_and_the_release_its_stock_change(
    shop: Inventory, db: asyncpg.Connection
) -> None:
    await shop.stock("rivoli", "YOG", 1)
    order_id = (await shop.placed("dev_a", "rivoli", [("YOG", 1)]))["order_id"]
    await shop.move(order_id, "cancel", staff("rivoli"))
    [*_, canceled] = await order_events(db, order_id)
    assert canceled["type"] == "order.canceled" and canceled["data"]["reason"] == "canceled_by_staff"
    stock = await db.fetch(
        "SELECT type, data FROM bus.events WHERE type LIKE 'stock.%' AND data->>'sku' = 'YOG' ORDER BY id"
    )
    assert [(e["type"], e["data"]["before"], e["data"]["after"]) for e in stock[-3:]] == [
        ("stock.changed", 1, 0),  # the reservation
        ("stock.changed", 0, 1),  # the release
        ("stock.back_in_stock", 0, 1),
    ]


async def test_a_refused_order_publishes_nothing(shop: Inventory, db: asyncpg.Connection) -> None:
    before = await db.fetchval("SELECT count(*) FROM bus.events")
    assert (await shop.order("dev_a", "rivoli", [("OAT", 50)])).status_code == 409
    assert await db.fetchval("SELECT count(*) FROM bus.events") == before


# ----------------------------------------------------------------------------- the arithmetic holds

Step = tuple[str, int]
LIFECYCLE = {("reserved", "ready"): "ready", ("ready", "collected"): "collected"}
LIFECYCLE |= {(status, "cancel"): "canceled" for status in ("reserved", "ready")}
steps = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.integers(1, 6)),
        st.tuples(st.sampled_from(["ready", "collected", "cancel"]), st.integers(0, 7)),
        st.tuples(st.just("adjust"), st.integers(-5, 5).filter(bool)),
        st.tuples(st.just("set"), st.integers(0, 12)),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
async def test_any_sequence_of_orders_moves_and_stock_changes_keeps_the_books_straight(
    shop: Inventory, db: asyncpg.Connection, plan: list[Step]
) -> None:
    """A model of the store (on hand, orders and their statuses) predicts every answer; the ledger
    adds up to on_hand and `reserved` is what open orders hold."""
    store = f"s{uuid.uuid4().hex[:10]}"  # each example gets its own store in the shared database
    await shop.stock(store, "OAT", 6)
    on_hand, orders = 6, []  # orders: [order_id, status, qty]
    for action, n in plan:
        reserved = sum(q for _, s, q in orders if s in ("reserved", "ready"))
        if action == "order":
            r = await shop.order("dev_a", store, [("OAT", n)])
            assert r.status_code == (201 if n <= on_hand - reserved else 409), r.text
            if r.status_code == 201:
                orders.append([r.json()["order_id"], "reserved", n])
        elif action in ("ready", "collected", "cancel"):
            if not orders:
                continue
            order = orders[n % len(orders)]
            target = LIFECYCLE.get((order[1], action))
            r = await shop.move(order[0], action, staff(store))
            assert r.status_code == (200 if target else 409), r.text
            if target == "collected":
                on_hand -= order[2]
            order[1] = target or order[1]
        elif action == "adjust":
            r = await shop.http.post(
                f"/v1/stores/{store}/stock/OAT/adjustments", json={"delta": n, "reason": "count"}, headers=ADMIN
            )
            assert r.status_code == (200 if on_hand + n >= reserved else 409), r.text
            on_hand += n if r.status_code == 200 else 0
        else:
            r = await shop.http.put(f"/v1/stores/{store}/stock/OAT", json={"on_hand": n}, headers=ADMIN)
            assert r.status_code == (200 if n >= reserved else 409), r.text
            on_hand = n if r.status_code == 200 else on_hand
    reserved = sum(q for _, s, q in orders if s in ("reserved", "ready"))
    row = await db.fetchrow("SELECT on_hand, reserved FROM inventory.stock WHERE store_id = $1", store)
    assert (row["on_hand"], row["reserved"]) == (on_hand, reserved)
    ledger = await db.fetchval(
        "SELECT sum(after - before) FROM inventory.stock_ledger WHERE store_id = $1 AND sku = 'OAT'", store
    )
    assert ledger == on_hand
