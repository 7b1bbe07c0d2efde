"""A campaign's results over 100,000 messages: prints the timing, asserts nothing.

    python bench/campaign_results.py

Starts an embedded PostgreSQL in a temporary folder, migrates notify, and inserts in SQL a campaign
with 100,000 messages (70 % sent, the rest suppressed for four reasons) to 20,000 devices at 10
stores, 200,000 messages of other campaigns, shown/clicked reports on a third/a tenth of the sent
ones, and 50,000 pickup orders (one line each, half of them the offered product) placed from one hour
before to two days after the offers. It then times what GET /v1/campaigns/{id}/results runs: the
counts, the suppressed reasons and the attributed orders, in one read-only transaction.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import figure  # noqa: E402
from services.notify.offers import repository as repo  # noqa: E402
from services.notify.offers.service import ALL_TIME, ATTRIBUTION  # noqa: E402
from shared.app import migrate  # noqa: E402
from shared.cli import service_spec  # noqa: E402
from shared.db import connect  # noqa: E402
from shared.embedded_pg import EmbeddedPostgres  # noqa: E402

MESSAGES = 100_000
OTHERS = 200_000
ORDERS = 50_000
T0 = datetime(2026, 11, 1, tzinfo=UTC)

SEED = """
INSERT INTO notify.messages (device_id, event_id, campaign_id, purpose, status, reason, store_id, sku, decided_at,
                             sent_at)
SELECT 'd' || (i % 20000), i, $1, 'offers',
       CASE WHEN i % 10 < 7 THEN 'sent' ELSE 'suppressed' END,
       CASE WHEN i % 10 >= 7 THEN (ARRAY['duplicate', 'frequency_cap', 'out_of_stock', 'paused'])[i % 4 + 1] END,
       's' || (i % 10), CASE WHEN i % 50 = 0 THEN 'ALT' ELSE 'YOG-1' END,
       $2::timestamptz + make_interval(secs => i * 20), $2::timestamptz + make_interval(secs => i * 20 + 1)
FROM generate_series(1, $3) AS i;
"""


async def seed(conn) -> None:
    await conn.execute(SEED, "welcome", T0, MESSAGES)
    await conn.execute(SEED.replace("i, $1", "i + 10000000, $1 || (i % 20)"), "other", T0, OTHERS)
    await conn.execute(
        """
        INSERT INTO notify.message_events (message_id, type, ts)
        SELECT id, t.type, sent_at FROM notify.messages m
        CROSS JOIN (VALUES ('shown', 3), ('clicked', 10)) AS t (type, every)
        WHERE status = 'sent' AND id % t.every = 0
        """
    )
    span_s = MESSAGES * 20
    await conn.execute(
        """
        INSERT INTO notify.orders (order_id, device_id, store_id, placed_at, event_id)
        SELECT 'o' || i, 'd' || (i * 7 % 20000), 's' || (i % 10),
               $1::timestamptz + make_interval(secs => (i::bigint * 7919 % ($2 + 176400)) - 3600), i
        FROM generate_series(1, $3) AS i
        """,
        T0,
        span_s,
        ORDERS,
    )
    await conn.execute(
        """
        INSERT INTO notify.order_lines (order_id, sku, qty)
        SELECT order_id, CASE WHEN event_id % 2 = 0 THEN 'YOG-1' ELSE 'YOG-2' END, 1 + event_id % 3
        FROM notify.orders
        """
    )
    await conn.execute("ANALYZE")


async def results(conn) -> tuple[dict, dict, dict]:
    since, until = ALL_TIME
    async with conn.transaction(readonly=True):
        counts = await repo.campaign_counts(conn, "welcome", "YOG-1", since, until)
        suppressed = await repo.suppressed_by_reason(conn, "welcome", since, until)
        orders = await repo.attributed_orders(conn, "welcome", since, until, ATTRIBUTION)
    return dict(counts), suppressed, dict(orders)


async def main() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="accueil-bench-results-"))
    server = EmbeddedPostgres(data_dir)
    try:
        conn = await connect(server.start())
        try:
            await migrate(conn, service_spec("notify"))
            started = time.perf_counter()
            await seed(conn)
            print(
                f"seeded {MESSAGES:,} + {OTHERS:,} messages, {ORDERS:,} orders in {time.perf_counter() - started:.1f} s"
            )
            timings = []
            for _ in range(7):
                started = time.perf_counter()
                answer = await results(conn)
                timings.append(time.perf_counter() - started)
        finally:
            await conn.close()
        figure("campaign_results.median", statistics.median(timings) * 1000, "ms")
        print(f"results of a campaign with {MESSAGES:,} messages: {answer}")
        print(
            f"time: first {timings[0] * 1000:.0f} ms, median {statistics.median(timings) * 1000:.0f} ms, "
            f"max {max(timings) * 1000:.0f} ms (7 runs)"
        )
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
