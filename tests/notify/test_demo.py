"""`accueil demo`'s own parts: finding a running `accueil run`, and reading an event stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

from shared.demo import admin_token, peer_urls
from shared.sse import sse_messages


def test_the_demo_finds_the_services_where_accueil_run_serves_them() -> None:
    env = {"ACCUEIL_NOTIFY_PORT": "9003", "ACCUEIL_GEO_URL": "http://geo.internal:80/"}
    assert peer_urls(env) == {
        "geo": "http://geo.internal:80",
        "inventory": "http://127.0.0.1:8002",
        "notify": "http://127.0.0.1:9003",
    }


def test_the_admin_token_comes_from_the_environment_else_from_the_data_dir(tmp_path: Path) -> None:
    assert admin_token({"ACCUEIL_DATA_DIR": str(tmp_path)}) is None
    assert not (tmp_path / "secrets.json").exists()  # never created by the demo
    (tmp_path / "secrets.json").write_text(json.dumps({"admin_token": "from-the-run"}))
    assert admin_token({"ACCUEIL_DATA_DIR": str(tmp_path)}) == "from-the-run"
    assert admin_token({"ACCUEIL_DATA_DIR": str(tmp_path), "ACCUEIL_ADMIN_TOKEN": "set"}) == "set"


async def lines(*items: str) -> AsyncIterator[str]:
    for item in items:
        yield item


async def test_server_sent_events_are_read_with_their_type_id_and_data() -> None:
    stream = lines(
        ": accueil staff alerts", "retry: 2000", "",
        "id: 7", "", # an id alone dispatches nothing
        "id: 8", "event: alert", 'data: {"a":', "data: 1}", "",
        ": keep-alive", "",
        "data: plain", "",
    )  # fmt: skip
    got = [(m.event, m.id, m.data) async for m in sse_messages(stream)]
    assert got == [("alert", "8", '{"a":\n1}'), ("message", None, "plain")]
