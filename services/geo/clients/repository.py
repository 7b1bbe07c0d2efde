"""The SQL of what a device's app was last told."""

from __future__ import annotations

import asyncpg


async def swap_waypoints_digest(conn: asyncpg.Connection, device_id: str, digest: bytes) -> bool:
    """Remember `digest` as the waypoint set the device was sent; False when it already was."""
    changed = await conn.fetchval(
        """
        UPDATE geo.devices SET waypoints_digest = $2
        WHERE device_id = $1 AND waypoints_digest IS DISTINCT FROM $2
        RETURNING true
        """,
        device_id,
        digest,
    )
    return bool(changed)
