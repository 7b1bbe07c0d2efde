"""What every client can rely on: operational endpoints, and bad input answered with a 4xx naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import System
from tests.support.builders import create_store, feed_until, pickup_store, ping, place_order, shopper, walk_in
from tests.support.pages import OPENAPI_DOCUMENT, SCHEMA_UIS


async def test_every_service_serves_health_readiness_metrics_and_its_openapi(system: System) -> None:
    for client in (system.geo, system.inventory, system.notify):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200 and "litestar_requests_total" in metrics.text
        schema = await client.get("/schema/openapi.json")
        assert schema.status_code == 200 and schema.json()["paths"]


async def test_every_service_serves_its_openapi_document_alone_and_no_documentation_ui(system: System) -> None:
    for client in (system.geo, system.inventory, system.notify):
        document = await client.get(OPENAPI_DOCUMENT)
        assert document.status_code == 200 and document.headers["content-type"].endswith("json")
        assert document.json()["openapi"].startswith("3.")
        for path in (*SCHEMA_UIS, "/schema/openapi.yaml"):
            r = await client.get(path)
            assert (r.status_code, r.headers["content-type"]) == (404, "application/json"), (client.base_url, path)
            assert r.json()["error"] == "not_found"


async def test_a_latitude_out_of_range_is_422_naming_the_field(system: System) -> None:
    await create_store(system)
    auth = (await shopper(system, location=True)).auth
    bad = ping(123.0, 2.35, datetime.now(UTC))
    r = await system.geo.post("/v1/pings", json={"pings": [bad]}, headers=auth)
    assert r.status_code == 422
    assert r.json()["field"] == "pings[0].lat"


async def test_malformed_json_and_nan_are_400(system: System) -> None:
    auth = (await shopper(system, location=True)).auth
    headers = {**auth, "content-type": "application/json"}
    assert (await system.geo.post("/v1/pings", content=b'{"pings": [', headers=headers)).status_code == 400
    nan = b'{"pings": [{"lat": NaN, "lng": 2.3, "accuracy_m": 5, "ts": "2026-01-01T00:00:00Z"}]}'
    assert (await system.geo.post("/v1/pings", content=nan, headers=headers)).status_code == 400


async def test_a_timestamp_without_an_offset_is_refused(system: System) -> None:
    auth = (await shopper(system, location=True)).auth
    naive = {"lat": 48.86, "lng": 2.347, "accuracy_m": 5, "ts": "2026-01-01T10:00:00"}
    r = await system.geo.post("/v1/pings", json={"pings": [naive]}, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "pings[0].ts"


async def test_a_batch_over_500_pings_is_413_and_nothing_is_stored(system: System, db) -> None:
    await create_store(system)
    who = await shopper(system, location=True)
    device_id, auth = who.device_id, who.auth
    now = datetime.now(UTC)
    pings = [ping(48.86, 2.347, now - timedelta(seconds=i)) for i in range(501)]
    r = await system.geo.post("/v1/pings", json={"pings": pings}, headers=auth)
    assert r.status_code == 413 and r.json()["field"] == "pings"
    assert await db.fetchval("SELECT count(*) FROM geo.pings WHERE device_id = $1", device_id) == 0


async def test_pings_far_in_the_future_or_past_are_rejected_one_by_one(system: System) -> None:
    await create_store(system)
    auth = (await shopper(system, location=True)).auth
    now = datetime.now(UTC)
    pings = [ping(48.9, 2.3, now + timedelta(days=2)), ping(48.9, 2.3, now - timedelta(days=3)), ping(48.9, 2.3, now)]
    r = await system.geo.post("/v1/pings", json={"pings": pings}, headers=auth)
    assert r.status_code == 200
    assert r.json()["accepted"] == 1
    assert [(x["index"], x["reason"].split(":")[0]) for x in r.json()["rejected"]] == [(0, "ts"), (1, "ts")]


async def test_pings_need_a_device_token(system: System) -> None:
    r = await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=system.admin)
    assert r.status_code == 403


async def test_a_zone_for_an_unknown_store_is_404(system: System) -> None:
    body = {"kind": "store", "circle": {"lat": 48.86, "lng": 2.35, "radius_m": 50}}
    r = await system.geo.put("/v1/stores/nowhere/zones/z1", json=body, headers=system.admin)
    assert r.status_code == 404 and r.json()["field"] == "store_id"


async def test_a_self_intersecting_polygon_is_422_saying_why(system: System) -> None:
    await create_store(system)
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[2.0, 48.0], [2.001, 48.001], [2.001, 48.0], [2.0, 48.001], [2.0, 48.0]]],
    }
    r = await system.geo.put(
        "/v1/stores/rivoli/zones/z2", json={"kind": "department", "polygon": bowtie}, headers=system.admin
    )
    assert r.status_code == 422 and "Self-intersection" in r.json()["detail"]


async def test_a_circle_with_a_zero_or_absurd_radius_is_422(system: System) -> None:
    await create_store(system)
    for radius in (0, -5, 1e9):
        body = {"kind": "store", "circle": {"lat": 48.86, "lng": 2.35, "radius_m": radius}}
        r = await system.geo.put("/v1/stores/rivoli/zones/z3", json=body, headers=system.admin)
        assert r.status_code == 422 and r.json()["field"] == "circle.radius_m"


async def test_a_circle_across_the_180th_meridian_or_on_a_pole_is_422_not_half_matched(system: System) -> None:
    await create_store(system)
    for lat, lng in ((-16.5, 179.9995), (-16.5, -179.9999), (90, 0), (-89.999, 45)):
        body = {"kind": "store", "circle": {"lat": lat, "lng": lng, "radius_m": 500}}
        r = await system.geo.put("/v1/stores/rivoli/zones/z4", json=body, headers=system.admin)
        assert r.status_code == 422 and r.json()["field"] == "circle", (lat, lng, r.text)
    body = {"kind": "store", "circle": {"lat": -16.5, "lng": 179.99, "radius_m": 500}}  # near it, not across
    assert (await system.geo.put("/v1/stores/rivoli/zones/z4", json=body, headers=system.admin)).status_code == 200


async def test_an_unknown_device_time_zone_is_422(system: System) -> None:
    r = await system.notify.post("/v1/devices", json={"platform": "web", "locale": "fr", "timezone": "Mars/Olympus"})
    assert r.status_code == 422 and r.json()["field"] == "timezone"


async def test_stock_for_an_unknown_product_is_404_and_negative_stock_is_422(system: System) -> None:
    r = await system.inventory.put("/v1/stores/rivoli/stock/NOPE", json={"on_hand": 3}, headers=system.admin)
    assert r.status_code == 404 and r.json()["field"] == "sku"
    await system.inventory.put("/v1/products/A1", json={"name": "A", "category": "c"}, headers=system.admin)
    r = await system.inventory.put("/v1/stores/rivoli/stock/A1", json={"on_hand": -1}, headers=system.admin)
    assert r.status_code == 422 and r.json()["field"] == "on_hand"


async def test_the_event_feed_pages_oldest_first(system: System) -> None:
    await create_store(system)
    auth = (await shopper(system, location=True)).auth
    await system.geo.post("/v1/pings", json={"pings": walk_in()}, headers=auth)
    events = await feed_until(system, lambda evs: len(evs) >= 2, after=0, limit=10)
    assert [e["type"] for e in events] == ["store.changed", "zone.entered"]
    after = events[-1]["id"]
    assert (await system.geo.get("/v1/events", params={"after": after}, headers=system.admin)).json()["events"] == []


def _requests_counted(metrics_text: str, path: str, status: int) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == "litestar_requests_total"
        and sample.labels == {"method": "POST", "path": path, "status_code": str(status), "app_name": "accueil_geo"}
    )


async def test_requests_are_counted_by_route_and_status_including_refusals(system: System) -> None:
    auth = (await shopper(system, location=True)).auth
    before = (await system.geo.get("/metrics")).text
    assert (await system.geo.post("/v1/pings", json={"pings": []})).status_code == 401
    bad = ping(123.0, 2.35, datetime.now(UTC))
    assert (await system.geo.post("/v1/pings", json={"pings": [bad]}, headers=auth)).status_code == 422
    after = (await system.geo.get("/metrics")).text
    for status in (401, 422):
        assert _requests_counted(after, "/v1/pings", status) == _requests_counted(before, "/v1/pings", status) + 1


async def test_a_value_of_the_wrong_type_is_422_naming_it_not_converted(system: System) -> None:
    auth = (await shopper(system, location=True)).auth
    now = datetime.now(UTC)
    for field, value in (("lat", "48.86"), ("accuracy_m", "10"), ("ts", int(now.timestamp()))):
        bad = {**ping(48.86, 2.347, now), field: value}
        r = await system.geo.post("/v1/pings", json={"pings": [bad]}, headers=auth)
        assert r.status_code == 422, (field, r.text)
        assert r.json()["field"] == f"pings[0].{field}"
    r = await system.geo.put(
        "/v1/stores/rivoli", json={"name": "Rivoli", "lat": "48.86", "lng": 2.35}, headers=system.admin
    )
    assert r.status_code == 422 and r.json()["field"] == "lat"


async def test_an_empty_body_is_400_malformed(system: System) -> None:
    auth = (await shopper(system, location=True)).auth
    headers = {**auth, "content-type": "application/json"}
    r = await system.geo.post("/v1/pings", content=b"", headers=headers)
    assert r.status_code == 400 and r.json()["error"] == "malformed"


async def test_a_nul_character_in_text_is_422_naming_the_field_not_a_database_error(system: System) -> None:
    r = await system.geo.put(
        "/v1/stores/nul", json={"name": "a\u0000b", "lat": 48.86, "lng": 2.35}, headers=system.admin
    )
    assert r.status_code == 422 and r.json()["field"] == "name"
    who = await shopper(system)
    device_id, auth = who.device_id, who.auth
    consent = {"policy_version": "v\u0000", "purposes": {"offers": True}}
    r = await system.notify.put(f"/v1/devices/{device_id}/consents", json=consent, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "policy_version"


async def test_json_nested_a_thousand_deep_is_400_on_every_service(system: System) -> None:
    deep = b'{"platform": "web", "locale": "fr", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    headers = {"content-type": "application/json"}
    r = await system.notify.post("/v1/devices", content=deep, headers=headers)
    assert r.status_code == 400 and r.json()["error"] == "malformed"
    auth = (await shopper(system, location=True)).auth
    r = await system.geo.post("/v1/pings", content=deep, headers={**auth, **headers})
    assert r.status_code == 400


async def test_a_body_over_1_mb_is_413_on_every_service(system: System) -> None:
    big = {"platform": "web", "locale": "fr", "padding": "x" * 1_100_000}
    assert (await system.notify.post("/v1/devices", json=big)).status_code == 413
    r = await system.inventory.put("/v1/products/BIG", json={"name": "x" * 1_100_000}, headers=system.admin)
    assert r.status_code == 413


async def test_a_consent_answer_about_no_known_purpose_is_422(system: System) -> None:
    who = await shopper(system)
    device_id, auth = who.device_id, who.auth
    for purposes in ({"marketing": True}, {}):
        body = {"policy_version": "2026-01", "purposes": purposes}
        r = await system.notify.put(f"/v1/devices/{device_id}/consents", json=body, headers=auth)
        assert r.status_code == 422 and r.json()["field"] == "purposes", r.text
    r = await system.notify.get(f"/v1/devices/{device_id}/consents", headers=auth)
    assert not r.json().get("history"), r.text


async def test_an_id_with_a_trailing_newline_in_a_body_is_a_4xx_naming_the_field(system: System) -> None:
    await pickup_store(system)
    who = await shopper(system)
    order_id = await place_order(system, who)
    for bad in (f"{order_id}\n", f"{order_id}\r\n", "ord_x\n"):
        r = await system.geo.post("/v1/trips", json={"order_id": bad, "store_id": "rivoli"}, headers=who.auth)
        assert r.status_code == 422 and r.json()["field"] == "order_id", (bad, r.text)


async def test_a_path_id_with_a_trailing_newline_is_a_4xx_naming_the_parameter_on_each_service(system: System) -> None:
    await pickup_store(system)
    who = await shopper(system)
    order_id = await place_order(system, who)
    calls = [
        (system.geo, "/v1/stores/rivoli%0A", "store_id", system.admin),
        (system.geo, f"/v1/devices/{who.device_id}%0A/data", "device_id", who.auth),
        (system.inventory, f"/v1/orders/{order_id}%0A", "order_id", system.admin),
        (system.inventory, f"/v1/devices/{who.device_id}%0A/orders", "device_id", who.auth),
        (system.notify, f"/v1/devices/{who.device_id}%0A/consents", "device_id", who.auth),
        (system.notify, "/v1/devices/dev_x%0A/consents", "device_id", system.admin),
    ]
    for client, path, parameter, auth in calls:
        r = await client.get(path, headers=auth)
        assert r.status_code == 422 and r.json()["field"] == parameter, (path, r.text)
