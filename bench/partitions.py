"""Raw pings in hourly partitions: disk per million pings, and dropping an hour vs deleting it.

    python bench/partitions.py [pings]

Starts an embedded PostgreSQL in a temporary folder, migrates geo, and writes 1,000,000 pings (by
default) into one hour's partition through the INSERT ingestion uses (devices.repository.write_pings):
20,000 devices each sending a fix a second (geo's target rate, 20,000 pings/s), 1,000 pings per
statement, as group commits write them. It prints the partition's size (heap and primary key index)
per million pings, then copies the hour into the next one and times the two ways to be rid of an
hour: the retention job's (DETACH PARTITION ... CONCURRENTLY, DROP TABLE) on one copy, and a single
DELETE of the same rows, then the VACUUM that must follow it to reuse the space, on the other.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import figure  # noqa: E402
from services.geo.devices import repository as devices_repo  # noqa: E402
from services.geo.devices.schemas import PingIn  # noqa: E402
from services.geo.privacy import repository as privacy_repo  # noqa: E402
from services.geo.privacy.partitions import HOUR, hour_of, name_of  # noqa: E402
from shared.app import migrate  # noqa: E402
from shared.cli import service_spec  # noqa: E402
from shared.db import connect  # noqa: E402
from shared.embedded_pg import EmbeddedPostgres  # noqa: E402

DEVICES = 20_000
PER_STATEMENT = 1_000
MB = 1024 * 1024


def pings_of_second(rng: random.Random, start: datetime, second: int, devices: list[str], where: list[list[float]]):
    """Every device's fix for one second: a walk around Paris with phone-like accuracy, speed and heading."""
    ts = start + timedelta(seconds=second, microseconds=rng.randrange(1_000_000))
    for i, device in enumerate(devices):
        where[i][0] += rng.gauss(0, 1e-5)
        where[i][1] += rng.gauss(0, 1.5e-5)
        moving = rng.random() < 0.6
        yield (
            device,
            PingIn(
                lat=where[i][0],
                lng=where[i][1],
                accuracy_m=round(rng.uniform(3, 35), 1),
                ts=ts + timedelta(microseconds=i),
                speed_mps=round(rng.uniform(0.5, 2.0), 2) if moving else (0.0 if rng.random() < 0.5 else None),
                heading=round(rng.uniform(0, 360), 1) if moving else None,
            ),
        )


async def write(conn, total: int, start: datetime) -> float:
    rng = random.Random(7)
    devices = [f"dev_{rng.randbytes(16).hex()[:22]}" for _ in range(min(DEVICES, total))]
    where = [[48.85 + rng.uniform(-0.05, 0.05), 2.35 + rng.uniform(-0.08, 0.08)] for _ in devices]
    started = time.perf_counter()
    written, second = 0, 0
    while written < total:
        batch = list(pings_of_second(rng, start, second, devices, where))[: total - written]
        for i in range(0, len(batch), PER_STATEMENT):
            async with conn.transaction():
                await devices_repo.write_pings(conn, batch[i : i + PER_STATEMENT], [])
        written += len(batch)
        second += 1
    return time.perf_counter() - started


async def sizes(conn, name: str) -> tuple[int, int, int]:
    row = await conn.fetchrow(
        """
        SELECT pg_relation_size(c.oid) AS heap, pg_indexes_size(c.oid) AS indexes,
               pg_total_relation_size(c.oid) AS total
        FROM pg_class c WHERE c.oid = $1::regclass
        """,
        f"geo.{name}",
    )
    return row["heap"], row["indexes"], row["total"]


async def main(total: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="accueil-bench-partitions-"))
    server = EmbeddedPostgres(data_dir)
    try:
        conn = await connect(server.start())
        try:
            await migrate(conn, service_spec("geo"))  # its partitions reach six hours ahead
            hour = hour_of(datetime.now(UTC)) + 2 * HOUR
            wal_at = await conn.fetchval("SELECT pg_current_wal_lsn()")
            elapsed = await write(conn, total, hour)
            wal = await conn.fetchval("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)", wal_at)
            stored = await conn.fetchval("SELECT count(*) FROM geo.pings")
            heap, indexes, size = await sizes(conn, name_of(hour))
            per_million = 1_000_000 / stored
            figure("partitions.disk_per_million_pings", size * per_million / MB, "MiB")
            figure("partitions.insert_rate", stored / elapsed, "pings/s")
            print(
                f"wrote {stored:,} pings into geo.{name_of(hour)} in {elapsed:.1f} s ({stored / elapsed:,.0f} pings/s)"
            )
            print(
                f"per million pings: {size * per_million / MB:.1f} MiB in all "
                f"(heap {heap * per_million / MB:.1f} MiB, primary key {indexes * per_million / MB:.1f} MiB), "
                f"{size / stored:.0f} bytes a ping"
            )
            figure("partitions.wal_per_million_pings", float(wal) * per_million / MB, "MiB")
            print(f"write-ahead log per million pings: {float(wal) * per_million / MB:.1f} MiB")
            print(f"a day at 20,000 pings/s: {size * per_million * 1728 / 1024**4:.2f} TiB (1.728 billion pings)")

            await conn.execute(
                """
                INSERT INTO geo.pings (device_id, ts, lat, lng, accuracy_m, speed_mps, heading, received_at)
                SELECT device_id, ts + interval '1 hour', lat, lng, accuracy_m, speed_mps, heading, received_at
                FROM geo.pings WHERE ts >= $1 AND ts < $2
                """,
                hour,
                hour + HOUR,
            )
            await conn.execute("CHECKPOINT")

            started = time.perf_counter()
            await privacy_repo.detach_ping_partition(conn, name_of(hour + HOUR), pending=False)
            await privacy_repo.drop_ping_partition(conn, name_of(hour + HOUR))
            dropped = time.perf_counter() - started

            started = time.perf_counter()
            deleted = await conn.execute("DELETE FROM geo.pings WHERE ts >= $1 AND ts < $2", hour, hour + HOUR)
            deleting = time.perf_counter() - started
            started = time.perf_counter()
            await conn.execute(f"VACUUM geo.{name_of(hour)}")
            vacuuming = time.perf_counter() - started
            assert deleted == f"DELETE {stored}", deleted
        finally:
            await conn.close()
        figure("partitions.drop_an_hour", dropped * 1000, "ms")
        figure("partitions.delete_an_hour_to_drop", deleting / dropped, "ratio")
        print(f"rid of an hour of {stored:,} pings: DETACH CONCURRENTLY + DROP {dropped * 1000:.0f} ms")
        print(
            f"  DELETE {deleting * 1000:.0f} ms ({deleting / dropped:.0f}x), then VACUUM {vacuuming * 1000:.0f} ms: "
            f"DELETE + VACUUM {(deleting + vacuuming) / dropped:.0f}x the drop"
        )
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
