"""Privacy's bus handlers."""

from __future__ import annotations

from services.inventory.privacy import service
from shared.bus import Consumer
from shared.events import ErasureRequested

ERASURE = Consumer(name="inventory.erasure", types=(ErasureRequested,), handle=service.erase)
