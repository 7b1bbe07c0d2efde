"""A tiny migration runner: numbered plain-SQL files, one transaction each, one schema per owner.

Files are named NNNN_verb_noun.sql. Applied versions are recorded in <schema>.schema_migrations.
A session-level advisory lock makes concurrent starters (two pods, `accueil run` and a test) take turns.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

log = logging.getLogger("accueil.migrations")

_MIGRATION_LOCK = 0x616363756569  # "accuei": one lock for every migration in the database
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class MigrationSet:
    """The migrations of one owner (a service, or the shared bus) and the schema they live in."""

    schema: str
    package: str

    def load(self) -> list[Migration]:
        folder = resources.files(self.package).joinpath("migrations")
        found = []
        for entry in folder.iterdir():
            match = _NAME.match(entry.name)
            if match:
                found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
        found.sort(key=lambda m: m.version)
        versions = [m.version for m in found]
        if len(set(versions)) != len(versions):
            raise RuntimeError(f"duplicate migration numbers in {self.package}: {versions}")
        return found


BUS = MigrationSet(schema="bus", package="shared")


async def apply(conn: asyncpg.Connection, sets: list[MigrationSet]) -> list[str]:
    """Apply what is missing of each set, in order; return the names applied."""
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        for mset in sets:
            applied += await _apply_set(conn, mset)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied


async def _apply_set(conn: asyncpg.Connection, mset: MigrationSet) -> list[str]:
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {mset.schema}")
    await conn.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {mset.schema}.schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )"""
    )
    done = {r["version"] for r in await conn.fetch(f"SELECT version FROM {mset.schema}.schema_migrations")}
    applied = []
    for migration in mset.load():
        if migration.version in done:
            continue
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                f"INSERT INTO {mset.schema}.schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
        log.info("applied migration %s/%s", mset.schema, migration.name)
        applied.append(f"{mset.schema}/{migration.name}")
    return applied


async def pending(conn: asyncpg.Connection, sets: list[MigrationSet]) -> list[str]:
    """Names of migrations not yet applied (readiness: a pod is not ready on an old schema)."""
    missing = []
    for mset in sets:
        exists = await conn.fetchval("SELECT to_regclass($1)", f"{mset.schema}.schema_migrations")
        done = set()
        if exists:
            done = {r["version"] for r in await conn.fetch(f"SELECT version FROM {mset.schema}.schema_migrations")}
        missing += [f"{mset.schema}/{m.name}" for m in mset.load() if m.version not in done]
    return missing
