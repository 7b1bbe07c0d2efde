"""How the ledger names who made a change. Pure."""

from __future__ import annotations

from shared.auth import Principal


def actor(principal: Principal) -> str:
    return f"{principal.role}:{principal.subject}"
