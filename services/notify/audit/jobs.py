"""The audit log's retention (once per tick across replicas, see shared/jobs.py)."""

from __future__ import annotations

from services.notify.audit import service
from shared.jobs import Job

RETENTION = Job("notify.audit_retention", 3600, service.forget_old)
JOBS = [RETENTION]
