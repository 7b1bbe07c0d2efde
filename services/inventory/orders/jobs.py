"""Orders' scheduled work (shared.jobs runs each once per tick across replicas)."""

from __future__ import annotations

from services.inventory.orders import service
from shared.jobs import Job

EXPIRE_ORDERS = Job(name="inventory.expire_orders", every_s=60, run=service.cancel_lapsed)
"""Orders nobody prepared or collected in time give their stock back."""

JOBS = [EXPIRE_ORDERS]
