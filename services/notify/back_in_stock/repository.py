"""The back-in-stock feature's SQL: the requests with their proof.

Locks: every use case that changes a device's requests or their messages (a PUT, a DELETE, an answer
to stock.back_in_stock, a held answer's release) first locks the device row (consent_repo.lock_device,
devices in id order), so two of them about one device never interleave, whatever they lock next. The
lapse job locks no device: it skips the requests locked by those, for its next run.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.db import affected_rows, fetch_one

COLUMNS = """request_id, device_id, store_id, sku, status, requested_at, lapses_at, ended_at, shown, policy_version,
    user_agent"""


async def open_request(conn: asyncpg.Connection, device_id: str, store_id: str, sku: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {COLUMNS} FROM notify.back_in_stock_requests
        WHERE device_id = $1 AND store_id = $2 AND sku = $3 AND status = 'open'
        """,
        device_id,
        store_id,
        sku,
    )


async def create_request(
    conn: asyncpg.Connection,
    device_id: str,
    store_id: str,
    sku: str,
    days: int,
    shown: str | None,
    policy_version: str | None,
    user_agent: str | None,
) -> asyncpg.Record:
    return await fetch_one(
        conn,
        f"""
        INSERT INTO notify.back_in_stock_requests
            (device_id, store_id, sku, lapses_at, shown, policy_version, user_agent)
        VALUES ($1, $2, $3, now() + make_interval(days => $4), $5, $6, $7)
        RETURNING {COLUMNS}
        """,
        device_id,
        store_id,
        sku,
        days,
        shown,
        policy_version,
        user_agent,
    )


async def requested_since(conn: asyncpg.Connection, device_id: str, since: datetime) -> list[datetime]:
    """When the device made requests since then, oldest first (its budget)."""
    rows = await conn.fetch(
        """
        SELECT requested_at FROM notify.back_in_stock_requests
        WHERE device_id = $1 AND requested_at >= $2 ORDER BY requested_at
        """,
        device_id,
        since,
    )
    return [r["requested_at"] for r in rows]


async def has_requested(conn: asyncpg.Connection, device_id: str) -> bool:
    """Whether the device ever made a request (kept with its proof, as a consent is)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM notify.back_in_stock_requests WHERE device_id = $1)", device_id
        )
    )


async def withdraw(conn: asyncpg.Connection, device_id: str, store_id: str, sku: str) -> list[asyncpg.Record]:
    """End the device's request for this product at this store: the open one, and one answered by a
    message not said yet (held through quiet hours, or due). One row per request ended, with the
    message to drop (`message_id`, or None)."""
    return await conn.fetch(
        """
        WITH ended AS (
            UPDATE notify.back_in_stock_requests r
            SET status = 'withdrawn', ended_at = now()
            WHERE r.device_id = $1 AND r.store_id = $2 AND r.sku = $3
              AND (r.status = 'open' OR (r.status = 'answered' AND EXISTS (
                  SELECT 1 FROM notify.messages m
                  WHERE m.request_id = r.request_id AND m.status IN ('held', 'pending')
              )))
            RETURNING r.request_id
        )
        SELECT e.request_id, m.id AS message_id
        FROM ended e LEFT JOIN notify.messages m ON m.request_id = e.request_id AND m.status IN ('held', 'pending')
        """,
        device_id,
        store_id,
        sku,
    )


async def requests_of(conn: asyncpg.Connection, device_id: str) -> list[asyncpg.Record]:
    """Every request the device made that is still kept, oldest first."""
    return await conn.fetch(
        f"SELECT {COLUMNS} FROM notify.back_in_stock_requests WHERE device_id = $1 ORDER BY request_id", device_id
    )


async def delete_of_device(conn: asyncpg.Connection, device_id: str) -> None:
    await conn.execute("DELETE FROM notify.back_in_stock_requests WHERE device_id = $1", device_id)


# --- answering stock.back_in_stock ---


async def waiting_devices(conn: asyncpg.Connection, store_id: str, sku: str, now: datetime) -> list[str]:
    """The devices with an open, unlapsed request for this product at this store, in lock order."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT device_id FROM notify.back_in_stock_requests
        WHERE store_id = $1 AND sku = $2 AND status = 'open' AND lapses_at > $3
        ORDER BY device_id
        """,
        store_id,
        sku,
        now,
    )
    return [r["device_id"] for r in rows]


async def lock_waiting(
    conn: asyncpg.Connection, store_id: str, sku: str, device_ids: list[str], now: datetime
) -> list[asyncpg.Record]:
    """Those devices' open, unlapsed requests for this product at this store, locked (their devices
    are already)."""
    return await conn.fetch(
        """
        SELECT request_id, device_id, requested_at FROM notify.back_in_stock_requests
        WHERE store_id = $1 AND sku = $2 AND device_id = any($3::text[]) AND status = 'open' AND lapses_at > $4
        ORDER BY request_id
        FOR UPDATE
        """,
        store_id,
        sku,
        device_ids,
        now,
    )


async def mark_answered(conn: asyncpg.Connection, request_ids: list[int]) -> None:
    """A message that may be said is queued for each: the requests are answered."""
    await conn.execute(
        """
        UPDATE notify.back_in_stock_requests SET status = 'answered', ended_at = now()
        WHERE request_id = any($1::bigint[]) AND status = 'open'
        """,
        request_ids,
    )


async def reopen(conn: asyncpg.Connection, request_ids: list[int], now: datetime) -> None:
    """Their message was dropped, the stock gone again when it was due: each request waits for the next
    return, unless its time is up (lapsed) or the shopper has asked again since (the newer one waits)."""
    await conn.execute(
        """
        UPDATE notify.back_in_stock_requests r
        SET status = CASE WHEN r.lapses_at > $2 THEN 'open' ELSE 'lapsed' END,
            ended_at = CASE WHEN r.lapses_at > $2 THEN NULL ELSE $2 END
        WHERE r.request_id = any($1::bigint[]) AND r.status = 'answered'
          AND NOT EXISTS (
              SELECT 1 FROM notify.back_in_stock_requests o
              WHERE o.device_id = r.device_id AND o.store_id = r.store_id AND o.sku = r.sku AND o.status = 'open'
          )
        """,
        request_ids,
        now,
    )


async def answered(conn: asyncpg.Connection, request_ids: list[int]) -> set[int]:
    """Those of these requests still answered: not withdrawn, lapsed or erased since."""
    rows = await conn.fetch(
        """
        SELECT request_id FROM notify.back_in_stock_requests
        WHERE request_id = any($1::bigint[]) AND status = 'answered'
        """,
        request_ids,
    )
    return {r["request_id"] for r in rows}


# --- scheduled work ---


async def lapse(conn: asyncpg.Connection, now: datetime) -> int:
    """Open requests past their time: the shopper was told how long one waits. One being answered or
    withdrawn right now (locked) is left to that, or to the next run."""
    status = await conn.execute(
        """
        WITH due AS (
            SELECT request_id FROM notify.back_in_stock_requests
            WHERE status = 'open' AND lapses_at <= $1
            FOR UPDATE SKIP LOCKED
        )
        UPDATE notify.back_in_stock_requests r SET status = 'lapsed', ended_at = $1
        FROM due WHERE r.request_id = due.request_id
        """,
        now,
    )
    return affected_rows(status)


async def delete_ended(conn: asyncpg.Connection, before: datetime) -> int:
    """Requests ended before `before`: kept as long as the message log that may hold their answer."""
    status = await conn.execute(
        "DELETE FROM notify.back_in_stock_requests WHERE status <> 'open' AND ended_at < $1", before
    )
    return affected_rows(status)
