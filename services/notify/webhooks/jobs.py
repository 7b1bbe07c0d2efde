"""The webhooks' scheduled work (once per tick across replicas, see shared/jobs.py)."""

from __future__ import annotations

import logging
from datetime import datetime

from services.notify.context import NotifyContext
from services.notify.webhooks import repository as repo
from services.notify.webhooks.secrets import sealed_for, secret_of
from shared import bus
from shared.db import Database
from shared.jobs import Job
from shared.sealed import Sealer, Unsealable

log = logging.getLogger("accueil.notify.webhooks")


async def seal_secrets(db: Database, sealer: Sealer) -> int:
    """Secrets kept in clear sealed, and those sealed under an older token key version sealed again
    under the current one. At start-up (before this replica sends anything) and on a schedule: a replica
    of the version before sealing may still store a secret in clear during the rollout. Returns how
    many were sealed."""
    async with db.transaction() as conn:
        rows = await repo.lock_unsealed_secrets(conn, sealer.prefix)
        sealed: list[tuple[str, bytes]] = []
        for row in rows:
            try:
                secret = secret_of(sealer, row).encode()
            except Unsealable:
                log.error("webhook %s: its stored secret cannot be opened; register it again", row["webhook_id"])
                continue
            sealed.append((row["webhook_id"], sealer.seal(secret, sealed_for(row["webhook_id"]))))
        await repo.seal_secrets(conn, sealed)
    return len(sealed)


async def seal_stored_secrets(ctx: NotifyContext, now: datetime) -> int:
    return await seal_secrets(ctx.db, ctx.part(Sealer))


async def blank_personal(ctx: NotifyContext, now: datetime) -> int:
    """A body waiting to be sent (a receiver down, retried for a day) is a copy of an event: the
    shopper's name, distance and ETA leave it when they leave the event log (bus.retention, hourly)."""
    async with ctx.db.transaction() as conn:
        return await repo.blank_personal(conn, bus.personal_cutoff(ctx, now))


JOBS = [
    Job("notify.webhook_secrets_sealed", 600, seal_stored_secrets),
    Job("notify.webhook_personal_fields", 3600, blank_personal),
]
