"""Local secrets: private, never written through a link, refused once others can read them."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from shared.errors import ConfigError
from shared.local_secrets import FILE, load_or_create


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_are_generated_once_into_a_private_folder_and_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = load_or_create(data)
    assert len(first["admin_token"]) >= 16 and len(first["token_key"]) >= 32
    assert load_or_create(data) == first
    assert mode(data) == 0o700 and mode(data / FILE) == 0o600


def test_a_secrets_file_others_can_read_is_refused(tmp_path: Path) -> None:
    load_or_create(tmp_path)
    (tmp_path / FILE).chmod(0o644)
    with pytest.raises(ConfigError, match="can be read by other users"):
        load_or_create(tmp_path)


def test_a_link_in_place_of_the_secrets_file_is_never_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"admin_token": "planted-admin-token-123", "token_key": "k" * 40}))
    elsewhere.chmod(0o600)
    data = tmp_path / "data"
    data.mkdir()
    os.symlink(elsewhere, data / FILE)
    with pytest.raises(ConfigError, match="not a plain file"):
        load_or_create(data)
