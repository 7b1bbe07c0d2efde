"""Privacy's scheduled work."""

from __future__ import annotations

from services.inventory.privacy import service
from shared.jobs import Job

RETENTION = Job("inventory.display_name_retention", 3600, service.forget_display_names)
"""A name given for a pickup is forgotten once the order has been over for the retention period."""

JOBS = [RETENTION]
