"""Migration 0009: geo.pings becomes partitioned by the hour and keeps its rows; a fresh database gets
the same table, ready for pings now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from services.geo.devices import repository as devices_repo
from services.geo.devices.schemas import PingIn
from services.geo.privacy.partitions import HOUR, hour_of, name_of
from shared import migrations
from shared.cli import service_spec
from shared.db import connect
from tests.conftest import new_database

GEO = service_spec("geo").migrations


@dataclass(frozen=True)
class Before(migrations.MigrationSet):
    """A service's migrations older than `version`: the schema as it was."""

    version: int = 0

    def load(self) -> list[migrations.Migration]:
        return [m for m in super().load() if m.version < self.version]


async def shape(conn: asyncpg.Connection) -> tuple[str, int | None]:
    """geo.pings' kind ('r' a table, 'p' partitioned) and its default partition, if any."""
    row = await conn.fetchrow(
        """
        SELECT c.relkind::text AS kind, p.partdefid::int AS default_partition
        FROM pg_class c LEFT JOIN pg_partitioned_table p ON p.partrelid = c.oid
        WHERE c.oid = 'geo.pings'::regclass
        """
    )
    return row["kind"], row["default_partition"]


async def partition_names(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch(
        "SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'geo.pings'::regclass"
    )
    return {r["name"] for r in rows}


async def test_the_pings_of_the_unpartitioned_table_are_all_kept(server_dsn: str) -> None:
    now = datetime.now(UTC)
    rows = [  # a day and a half old (past the retention: kept until the job drops its hour), and recent
        ("dev-a", now - timedelta(hours=36), 48.86, 2.347, 12.0, None, None, now - timedelta(hours=36)),
        ("dev-a", now - timedelta(minutes=70), 48.861, 2.348, 8.0, 1.5, 90.0, now - timedelta(minutes=69)),
        ("dev-b", now - timedelta(minutes=70), 48.862, 2.349, 30.0, 0.0, None, now - timedelta(minutes=70)),
        ("dev-b", now + timedelta(minutes=2), 48.863, 2.35, 5.0, None, 359.0, now),
    ]
    async with new_database(server_dsn) as url:
        conn = await connect(url)
        try:
            await migrations.apply(conn, [migrations.BUS, Before(GEO.schema, GEO.package, version=9)])
            assert await shape(conn) == ("r", None)
            await conn.executemany(
                """
                INSERT INTO geo.pings (device_id, ts, lat, lng, accuracy_m, speed_mps, heading, received_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """,
                rows,
            )

            applied = await migrations.apply(conn, [migrations.BUS, GEO])
            assert applied[0] == "geo/0009_partition_pings_by_hour.sql"

            assert await shape(conn) == ("p", 0)  # partitioned, no default partition
            assert await conn.fetchval("SELECT to_regclass('geo.pings_unpartitioned')") is None
            kept = await conn.fetch(
                """
                SELECT device_id, ts, lat, lng, accuracy_m, speed_mps, heading, received_at,
                       tableoid::regclass::text AS part
                FROM geo.pings ORDER BY ts, device_id
                """
            )
            assert [tuple(r)[:-1] for r in kept] == sorted(rows, key=lambda r: (r[1], r[0]))
            assert [r["part"] for r in kept] == [
                f"geo.{name_of(r[1])}" for r in sorted(rows, key=lambda r: (r[1], r[0]))
            ]
            window = {f"geo.{name_of(hour_of(now) + i * HOUR)}" for i in range(-24, 7)}
            assert window <= await partition_names(conn)

            # The insert of pings that may be stored already: a duplicate is still stored once.
            again = PingIn(lat=48.86, lng=2.347, accuracy_m=12.0, ts=rows[1][1])
            async with conn.transaction():
                await devices_repo.store_pings_again(conn, [("dev-a", again)], timedelta(seconds=1))
            assert await conn.fetchval("SELECT count(*) FROM geo.pings") == len(rows)
        finally:
            await conn.close()


async def test_a_fresh_database_has_pings_partitioned_and_the_hours_around_now_ready(db) -> None:
    assert await shape(db) == ("p", 0)
    now = datetime.now(UTC)
    assert {f"geo.{name_of(now)}", f"geo.{name_of(now + HOUR)}"} <= await partition_names(db)
