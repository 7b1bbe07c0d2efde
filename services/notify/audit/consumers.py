"""notify keeps the audit log of all three services."""

from __future__ import annotations

from services.notify.audit import service
from shared.bus import Consumer
from shared.events import AuditRecorded

AUDIT_EVENTS = Consumer(name="notify.audit", types=(AuditRecorded,), handle=service.keep)
