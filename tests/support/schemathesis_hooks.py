"""How schemathesis authenticates against a running accueil (loaded through schemathesis.toml).

Every call carries the token in ACCUEIL_TOKEN (the operator's admin token, or a device's), except where
an OpenAPI link carries a token an earlier answer gave (a device registration, a new staff member):
that call is made as that device or staff member. Without ACCUEIL_TOKEN, calls carry what the command
line gives (`-H "Authorization: Bearer ..."`, which overrides the links' tokens too).
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

_ISSUED: set[str] = set()
"""Tokens answers gave: a call carrying one got it from a link, and keeps it."""


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    try:
        body = response.json()
    except ValueError:
        return
    if isinstance(body, dict) and isinstance(body.get("token"), str):
        _ISSUED.add(body["token"])


@schemathesis.auth()
class Token:
    def get(self, case: Any, context: Any) -> str | None:
        return os.environ.get("ACCUEIL_TOKEN") or None

    def set(self, case: Any, data: str, context: Any) -> None:
        given = (case.headers or {}).get("Authorization", "").partition(" ")[2]
        if given not in _ISSUED:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
