"""A webhook's secret: made once, shown once, stored sealed (shared/sealed.py) and opened to sign each
delivery."""

from __future__ import annotations

import base64
import secrets

import asyncpg

from shared.sealed import Sealer

SECRET_BYTES = 32


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sealed_for(webhook_id: str) -> bytes:
    """What a webhook's sealed secret is bound to: its own row, so that copied into another webhook's
    row it is refused rather than signing that webhook's deliveries."""
    return f"notify.webhooks secret {webhook_id}".encode()


def secret_of(sealer: Sealer, row: asyncpg.Record) -> str:
    """The secret of a row holding `webhook_id`, `sealed_secret` and `secret` (the clear text of a row
    not sealed yet). Raises `Unsealable`."""
    return sealer.stored(row["sealed_secret"], row["secret"], sealed_for(row["webhook_id"])).decode()
