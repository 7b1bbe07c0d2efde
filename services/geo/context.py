"""What geo's routes, consumers and jobs receive."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.geo.settings import GeoSettings
from services.geo.zones.index_sync import ZoneIndexSync
from shared.context import Context
from shared.group_commit import GroupCommit


@dataclass(frozen=True, kw_only=True)
class GeoContext(Context):
    config: GeoSettings
    zones: ZoneIndexSync
    """This process's zone index and beacon map, kept current through LISTEN/NOTIFY."""
    uploads: GroupCommit[Any, Any]
    """Uploads arriving together are written together (devices.service)."""
