"""The erasure protocol on the bus: notify publishes `erasure.requested` (device_id, erasure_id);
each other service deletes or pseudonymizes what it holds and publishes `erasure.confirmed`."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import asyncpg

from shared import bus, keys
from shared.events import ErasureConfirmed, ErasureConfirmedData


def pseudonym(key: str, device_id: str) -> str:
    """A keyed hash for records the law makes us keep (proof of consent, a sale): the same device always
    gives the same pseudonym, and the pseudonym reveals nothing without the key."""
    digest = hmac.new(keys.derive(key, keys.PSEUDONYMS), device_id.encode(), hashlib.sha256).hexdigest()
    return f"erased:{digest[:32]}"


async def confirm(conn: asyncpg.Connection, service: str, erasure_id: str, at: datetime) -> None:
    """In the transaction that erased the service's data: tell notify it is done."""
    await bus.publish(
        conn, service, [ErasureConfirmed(ts=at, data=ErasureConfirmedData(erasure_id=erasure_id, service=service))]
    )
