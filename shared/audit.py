"""The audit trail of operators' changes: who changed what, from what to what.

A use case that changes something an operator or the admin token may change calls `record` in its own
transaction, with the resource as it was (None if new) and as it is now (None if deleted). The entry
travels as an `audit.recorded` event on the bus, so it exists if and only if the change commits, and
each service keeps writing only its own tables: notify keeps the log (notify.audit_log) and answers
`GET /v1/audit`. Devices, staff and services are not audited: only the admin token and operators.

An entry is in no service's event feed (`feed_source`), but the event log keeps it for a while and a
webhook may take `audit.recorded`, so nothing secret goes into an entry: every field named like a
secret or a token, and a shopper's name and device id, are replaced before the entry leaves (`redact`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec

from shared import bus
from shared.auth import CALL, CALLER, OPERATOR_ROLES, Principal
from shared.events import AuditData, AuditRecorded

REDACTED = "[redacted]"

SECRET_FIELDS = frozenset({"secret", "token", "password", "private_key", "auth", "p256dh", "client_secret"})
"""Fields never written into an entry, at any depth: a webhook's signing secret, a staff member's or a
device's token, a push subscription's keys. Named by field, not by resource: a resource that gains such
a field later is covered."""

PERSONAL_FIELDS = frozenset({"display_name", "device_id"})
"""A shopper's name and device id (an order an operator changes names them): the audit keeps operators'
actions a year, longer than the shopper's data may stay, so an entry never holds them."""


def redact(value: Any) -> Any:
    """The value with every secret or personal field, at any depth, replaced by a mark."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if key in SECRET_FIELDS or key in PERSONAL_FIELDS else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def actor_of(principal: Principal | None) -> str | None:
    """Whom an entry names: `admin` for the admin token, an operator's email; None for anyone else
    (a device, staff, another service), whose writes are not audited."""
    if principal is None or principal.role not in OPERATOR_ROLES:
        return None
    return principal.subject


def audited() -> bool:
    """Whether the request being served is one the audit records: a use case skips reading the
    resource's former state for anyone else."""
    return actor_of(CALLER.get()) is not None and CALL.get() is not None


async def record(conn: asyncpg.Connection, source: str, before: Any, after: Any) -> None:
    """Record the change the current request made, in the caller's transaction, if an operator or the
    admin token made it and it changed something. `before` and `after` are the resource as answered
    (Structs, dicts or None)."""
    actor, action = actor_of(CALLER.get()), CALL.get()
    if actor is None or action is None:
        return
    before, after = redact(msgspec.to_builtins(before)), redact(msgspec.to_builtins(after))
    if before == after:
        return  # a write that changed nothing (the same document again, an import of what is there)
    entry = AuditData(actor=actor, action=action, before=before, after=after)
    await bus.publish(conn, feed_source(source), [AuditRecorded(ts=datetime.now(UTC), data=entry)], read_back=False)


def feed_source(service: str) -> str:
    """The source an entry is published under: not the service's own, so that its event feed
    (`GET /v1/events`, which lists the service's source) stays the service's domain events, and the
    log is read where it is kept, `GET /v1/audit`."""
    return f"{service}.audit"
