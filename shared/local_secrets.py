"""Secrets for a local run, generated once and kept in ACCUEIL_DATA_DIR.

A deployment sets each service's keys itself (`accueil keys generate`); a laptop gets stable ones here,
so tokens handed out yesterday still work after a restart: the admin token (`accueil run` prints it)
and a token key per service (`token_key` is notify's, as it was when one key served all three).

A new data directory is made private (0700); the file is written 0600, created exclusively and never
through a symbolic link, so another user of the machine can neither read the secrets nor plant a link
that makes us write them elsewhere. A secrets file others can read is refused: its secrets must be
taken as known. An existing directory keeps its mode: run as root, the embedded PostgreSQL's own user
needs to traverse it to reach its data, and the file's own mode keeps the secrets private.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

from shared.errors import ConfigError

FILE = "secrets.json"


def load_or_create(data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / FILE
    stored = _read(path)
    wanted: dict[str, Callable[[], str]] = {
        "admin_token": lambda: secrets.token_urlsafe(24),
        **{token_key_name(service): lambda: secrets.token_urlsafe(48) for service in ("geo", "inventory", "notify")},
    }
    missing = {name: make() for name, make in wanted.items() if name not in stored}
    if missing:
        stored.update(missing)
        _write(path, stored)
    return stored


def token_key_name(service: str) -> str:
    return "token_key" if service == "notify" else f"{service}_token_key"


def _read(path: Path) -> dict[str, str]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return {}
    except OSError as exc:  # ELOOP: a symbolic link stands where the file should be
        raise ConfigError(f"{path} is not a plain file: refusing to read secrets through it") from exc
    with os.fdopen(fd) as f:
        mode = os.fstat(f.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigError(f"{path} is not a plain file")
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"{path} can be read by other users (mode {stat.S_IMODE(mode):o}): its secrets may be known. "
                "Delete it to have new ones generated, or make it private with chmod 600."
            )
        stored: dict[str, str] = json.load(f)
        return stored


def _write(path: Path, stored: dict[str, str]) -> None:
    """Through a new file renamed over the old one: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(stored, f, indent=2)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
