"""The shape of the tables of who may call what (tests/system/test_authorization.py for devices, staff
and the admin token, test_operator_roles.py for the operator roles)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Case:
    service: str
    method: str
    path: str
    allowed: set[str]  # roles that get "ok"
    hidden: set[str] = field(default_factory=set)  # roles that get 404 (existence must not leak)
    body: Any = None

    def expected(self, role: str) -> str:
        if role in self.allowed:
            return "ok"
        return "404" if role in self.hidden else "403"


def outcome(status: int) -> str:
    """ "ok": the call got past authorization (2xx, or a 409 about the resource's state)."""
    if 200 <= status < 300 or status == 409:
        return "ok"
    return str(status)
