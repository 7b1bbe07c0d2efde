"""What the console's aggregate answer carries (counts and shapes, never a device or its position), and
what it reads of geo's and inventory's answers to gather it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from services.notify.journeys.schemas import JourneyEntry, JourneyGoal, JourneyResults, Step
from services.notify.offers.schemas import CampaignResults, CampaignSchedule, CampaignTrigger
from shared.wire import Answer


class ConsoleConfig(msgspec.Struct, kw_only=True):
    """Where the console writes zones (geo, as the browser reaches it), searches the catalogue (inventory)
    and the tiles of its map."""

    geo: str
    inventory: str
    """inventory, as the browser reaches it: the campaign editor searches its catalogue"""
    tile_url: str
    """{z}/{x}/{y} as Leaflet takes them; empty: no tiles, the plain drawing"""
    tile_attribution: str


class ZoneView(Answer):
    zone_id: str
    kind: str
    devices: int
    """devices in the zone now, as geo counts its open visits"""
    name: str | None = None
    circle: dict[str, float] | None = None
    polygon: dict[str, Any] | None = None


class BeaconView(Answer):
    beacon_id: str
    zone_id: str


class StoreView(Answer):
    store_id: str
    name: str
    lat: float
    lng: float
    timezone: str
    zones: list[ZoneView]
    beacons: list[BeaconView]
    counted_at: datetime
    """when geo counted the devices"""


class CampaignView(Answer):
    campaign_id: str
    status: Literal["active", "paused", "ended"]
    trigger: CampaignTrigger
    sku: str
    results: CampaignResults
    """the funnel, all time: decided → sent → shown → clicked → orders"""
    product: str | None = None
    """the product's name, from inventory (absent while inventory cannot say)"""
    schedule: CampaignSchedule | None = None


class JourneyView(Answer):
    journey_id: str
    name: str
    version: int
    status: Literal["active", "paused", "ended"]
    entry: JourneyEntry
    steps: list[Step]
    """in the order they were written, the first run on entry"""
    holdout_percent: int
    exit_on: list[str]
    results: JourneyResults
    """all time: entered per arm, per step reached / sent / suppressed, devices at each step now, the goal"""
    goal: JourneyGoal | None = None


class Decision(Answer):
    message_id: int
    decided_at: datetime
    purpose: str
    status: str
    reason: str | None = None
    campaign_id: str | None = None
    journey_id: str | None = None
    journey_step: str | None = None
    store_id: str | None = None
    zone_id: str | None = None
    sku: str | None = None


class Unavailable(Answer):
    service: str
    detail: str


class Overview(Answer):
    at: datetime
    stores: list[StoreView]
    campaigns: list[CampaignView]
    journeys: list[JourneyView]
    decisions: list[Decision]
    """the latest decisions, newest first"""
    unavailable: list[Unavailable]
    """peers that could not answer: what they hold is missing from this answer, the rest is whole"""


# --- what the console reads of the peers' answers: the fields it uses; the rest, and whatever the
# answers grow, is ignored ---


class PeerStore(msgspec.Struct):
    store_id: str
    name: str
    lat: float
    lng: float
    timezone: str


class PeerStorePage(msgspec.Struct):
    """geo's GET /v1/stores."""

    stores: list[PeerStore]
    next_after: str | None = None


class PeerZone(msgspec.Struct):
    """One zone of geo's GET /v1/stores/{store_id}/zones."""

    zone_id: str
    kind: str
    name: str | None = None
    circle: dict[str, float] | None = None
    polygon: dict[str, Any] | None = None


class PeerBeacon(msgspec.Struct):
    """One beacon of geo's GET /v1/stores/{store_id}/beacons."""

    beacon_id: str
    zone_id: str


class PeerZoneCount(msgspec.Struct):
    zone_id: str
    devices: int


class PeerOccupancy(msgspec.Struct):
    """geo's GET /v1/stores/{store_id}/occupancy."""

    at: datetime
    zones: list[PeerZoneCount]


class PeerProduct(msgspec.Struct):
    """inventory's GET /v1/products/{sku}."""

    sku: str
    name: str
