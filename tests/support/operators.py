"""What the operators' tests share: an operator added through the API, and a store manager's reads of
their store in each of the three services, to see a token accepted, then refused everywhere."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.conftest import System, eventually


async def add_operator(system: System, email: str, role: str, stores: list[str] | None = None) -> None:
    body: dict[str, Any] = {"role": role, **({"stores": stores} if stores else {})}
    r = await system.notify.put(f"/v1/operators/{email}", json=body, headers=system.admin)
    assert r.status_code == 200, r.text


def store_reads(system: System, store_id: str = "rivoli") -> list[tuple[httpx.AsyncClient, str]]:
    """One read of the store in each service that a store manager of it may make."""
    return [
        (system.geo, f"/v1/stores/{store_id}/trips"),
        (system.inventory, f"/v1/stores/{store_id}/orders"),
        (system.notify, f"/v1/stores/{store_id}/alerts"),
    ]


async def accepted_everywhere(system: System, auth: dict[str, str]) -> None:
    for client, path in store_reads(system):
        assert (await client.get(path, headers=auth)).status_code == 200, path


async def refused_everywhere_within(system: System, auth: dict[str, str], started: float, seconds: float = 5) -> None:
    """Every service refuses the token (401) less than `seconds` after `started` (time.monotonic)."""
    for client, path in store_reads(system):

        async def refused(client: httpx.AsyncClient = client, path: str = path) -> bool:
            return (await client.get(path, headers=auth)).status_code == 401

        await eventually(refused, timeout=seconds)
    assert time.monotonic() - started < seconds
