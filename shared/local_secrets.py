"""Secrets for a local run, generated once and kept in ACCUEIL_DATA_DIR (0600).

A deployment sets ACCUEIL_ADMIN_TOKEN and ACCUEIL_TOKEN_KEY itself; a laptop gets stable ones here,
so tokens handed out yesterday still work after a restart. `accueil run` prints the admin token.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

FILE = "secrets.json"


def load_or_create(data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FILE
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {
        "admin_token": lambda: secrets.token_urlsafe(24),
        "token_key": lambda: secrets.token_urlsafe(48),
    }
    missing = {name: make() for name, make in wanted.items() if name not in stored}
    if missing:
        stored.update(missing)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(stored, f, indent=2)
        tmp.replace(path)
    return stored
