"""`accueil demo`'s own parts: finding a running `accueil run` and its admin token (its event stream
reader: tests/unit/shared/test_sse.py)."""

from __future__ import annotations

import json
from pathlib import Path

from shared.demo import admin_token, peer_urls


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
