"""The audit log on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.wire import Answer


class AuditEntry(Answer, omit_defaults=False):
    id: int
    at: datetime
    actor: str
    """`admin` (the admin token) or the operator's email."""
    action: str
    """The call, e.g. `PUT /v1/campaigns/welcome`."""
    before: Any
    """The resource as it was; null if the call created it."""
    after: Any
    """The resource as it is now; null if the call deleted it."""


class AuditPage(Answer, omit_defaults=False):
    entries: list[AuditEntry]
    next_after: int
    """The `after` of the next page (the last id of this one; `after` itself when it is empty)."""
