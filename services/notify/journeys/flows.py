"""The journey versions this process has read, checked once: a version never changes once saved."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from services.notify.journeys import flow
from services.notify.journeys import repository as repo

Key = tuple[str, int]
"""(journey_id, version)"""


class Flows:
    def __init__(self) -> None:
        self._checked: dict[Key, flow.Flow] = {}

    async def of(self, conn: asyncpg.Connection, keys: Iterable[Key]) -> dict[Key, flow.Flow]:
        wanted = set(keys)
        missing = [k for k in wanted if k not in self._checked]
        if missing:
            for key, document in (await repo.documents(conn, missing)).items():
                self._checked[key] = flow.stored(document)
        return {k: self._checked[k] for k in wanted if k in self._checked}
