"""POST /v1/pings in front of Litestar: the app's common upload is answered there, every other request
by the route, as it always was. The front is driven here as uvicorn drives it (ASGI messages), in front
of the running geo's own Litestar app, which counts the requests it is handed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from services.geo.devices.ingest_front import IngestFront
from shared.geodesy import destination
from tests.conftest import ADMIN_TOKEN, System
from tests.support.builders import EVERY_PURPOSE, STORE, create_store, ping, shopper, walk_in

JSON = (b"content-type", b"application/json")


class Handed:
    """The Litestar app, counting what it is handed."""

    def __init__(self, app: Any) -> None:
        self.app, self.state, self.calls = app, app.state, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


async def post(front: Any, body: bytes, *headers: tuple[bytes, bytes]) -> tuple[int, dict[str, str], bytes]:
    """One POST /v1/pings through the ASGI app: (status, headers, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/pings",
        "raw_path": b"/v1/pings",
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await front(scope, receive, send)
    [start] = [m for m in sent if m["type"] == "http.response.start"]
    answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, answer


def bearer(token: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {token}".encode())


def front_of(system: System) -> tuple[IngestFront, Handed]:
    served = system.running.servers["geo"].config.app
    assert isinstance(served, IngestFront)  # what `accueil serve` and the tests' servers run
    handed = Handed(served.app)
    return IngestFront(handed), handed


async def consenting_phone(system: System) -> tuple[str, IngestFront, Handed]:
    """The store, a shopper's device token (every consent given), and a front over geo's app."""
    await create_store(system)
    who = await shopper(system, **EVERY_PURPOSE)
    return who.auth["Authorization"].removeprefix("Bearer "), *front_of(system)


async def test_an_apps_upload_is_answered_in_front_as_the_route_answers_it(system: System) -> None:
    token, front, handed = await consenting_phone(system)
    body = msgspec.json.encode({"pings": walk_in()})

    status, headers, answer = await post(front, body, JSON, bearer(token))
    assert status == 200 and handed.calls == 0
    assert [e["type"] for e in json.loads(answer)["events"]] == ["zone.entered"], answer
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert int(headers["content-length"]) == len(answer)

    # The same upload again (a retry whose answer was lost), handed to the route: the same answer.
    status, again_headers, again = await post(
        front, body, (b"content-type", b"application/json; charset=utf-8"), bearer(token)
    )
    assert status == 200 and handed.calls == 1
    assert json.loads(again) == json.loads(answer)
    assert again_headers.keys() == headers.keys()
    assert again_headers["content-type"] == headers["content-type"]
    assert again_headers["x-content-type-options"] == "nosniff"


async def test_every_other_request_is_the_routes_to_answer(system: System) -> None:
    token, front, handed = await consenting_phone(system)
    at = datetime.now(UTC) - timedelta(minutes=1)

    def one(lat: float = STORE["lat"], seconds: int = 0) -> bytes:
        return msgspec.json.encode({"pings": [ping(lat, STORE["lng"], at + timedelta(seconds=seconds))]})

    cases: list[tuple[str, bytes, list[tuple[bytes, bytes]], int]] = [
        ("a browser's (Origin)", one(seconds=1), [JSON, bearer(token), (b"origin", b"https://shop.example")], 200),
        ("no token", one(), [JSON], 401),
        ("a token not a device's", one(), [JSON, bearer(ADMIN_TOKEN)], 403),
        ("a latitude off the earth", one(lat=91.0), [JSON, bearer(token)], 422),
        ("an empty body", b"", [JSON, bearer(token)], 400),
        ("not JSON", b"{pings:", [JSON, bearer(token)], 400),
        (
            "501 fixes",
            msgspec.json.encode({"pings": [ping(STORE["lat"], STORE["lng"], at)] * 501}),
            [JSON, bearer(token)],
            413,
        ),
    ]
    for what, body, headers, expected in cases:
        before = handed.calls
        status, _, answer = await post(front, body, *headers)
        assert (status, handed.calls) == (expected, before + 1), (what, answer)
        if status >= 400:
            assert "error" in json.loads(answer), (what, answer)


async def test_an_upload_whose_ingest_fails_in_front_is_answered_by_the_route(system: System) -> None:
    """Over the device's budget (ingest refuses it, after the body was read): the route's 429."""
    token, front, handed = await consenting_phone(system)
    start = datetime.now(UTC) - timedelta(minutes=30)
    refused = []
    for i in range(60):
        lat, lng = destination(STORE["lat"], STORE["lng"], 90, 2_000 + i)
        body = msgspec.json.encode({"pings": [ping(lat, lng, start + timedelta(seconds=10 * i))]})
        status, headers, answer = await post(front, body, JSON, bearer(token))
        if status != 200:
            refused.append((status, headers, json.loads(answer)))
    assert refused, "the device's budget was never spent"
    assert handed.calls == len(refused)
    for status, headers, answer in refused:
        assert status == 429 and int(headers["retry-after"]) >= 1
        assert answer["status"] == 429 and "too many uploads" in answer["detail"]


async def test_a_body_over_the_limit_is_the_routes_to_refuse_however_it_arrives(system: System) -> None:
    token, front, handed = await consenting_phone(system)
    body = b'{"pings": [' + b" " * 1_100_000 + b"]}"
    status, _, _ = await post(front, body, JSON, bearer(token))
    assert (status, handed.calls) == (413, 1)
