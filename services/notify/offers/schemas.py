"""Campaigns on the wire, and what the offers feature reads of geo's answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from services.notify.offers.schedule import DAYS
from shared.events import ZoneKind
from shared.wire import Answer, Body, Id, Locale

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class LocalizedMessage(Body):
    title: Text
    body: Text


class CampaignTrigger(Body):
    type: Literal["zone.entered", "zone.dwelled"]
    zone_kind: ZoneKind | None = None
    zone_id: Id | None = None
    store_id: Id | None = None
    min_confidence: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    """Only zone events at least this confident (0..1: how likely the device really is in the zone)."""


Instant = Annotated[datetime, msgspec.Meta(tz=True)]


Day = Annotated[str, msgspec.Meta(extra_json_schema={"enum": list(DAYS)})]
Clock = Annotated[str, msgspec.Meta(extra_json_schema={"pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"})]


class OpeningHours(Body):
    days: Annotated[list[Day], msgspec.Meta(extra_json_schema={"minItems": 1})]
    """mon, tue, wed, thu, fri, sat, sun"""
    from_: Clock = msgspec.field(name="from")
    """HH:MM, the store's local time"""
    to: Clock
    """HH:MM, after `from` (exclusive)"""


class CampaignSchedule(Body):
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    hours: list[OpeningHours] | None = None


class CampaignPut(Body):
    trigger: CampaignTrigger
    sku: Id
    message: Annotated[dict[Locale, LocalizedMessage], msgspec.Meta(extra_json_schema={"minProperties": 1})]
    active: bool = True
    """false pauses it: its decisions are recorded as suppressed, reason `paused`"""
    schedule: CampaignSchedule | None = None


class Campaign(Answer):
    campaign_id: str
    trigger: CampaignTrigger
    sku: str
    message: dict[str, LocalizedMessage]
    active: bool
    schedule: CampaignSchedule | None = None
    ended_at: datetime | None = None


class CampaignResults(Answer):
    campaign_id: str
    decided: int
    """messages recorded for the campaign (sent or not)"""
    sent: int
    shown: int
    clicked: int
    suppressed: dict[str, int]
    """reason -> messages"""
    alternatives: int
    """sent messages about another product than the campaign's (it was out of stock)"""
    orders: int
    """pickup orders attributed to a sent offer (the attribution rule: docs/api-guide.md, "Campaigns and results")"""
    units: int
    """units of the offered products in those orders"""


class DeviceWhereabouts(msgspec.Struct):
    """geo's GET /v1/devices/{device_id}/context, the part a held offer's release reads (the rest of
    the answer, and whatever it grows, is ignored)."""

    stores: list[str] = msgspec.field(default_factory=list)
    """The stores geo sees the device in right now."""
