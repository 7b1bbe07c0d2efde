"""Campaigns on the wire, and what the offers feature reads of geo's answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

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


class OpeningHours(Body):
    days: list[str]
    """mon, tue, wed, thu, fri, sat, sun"""
    from_: str = msgspec.field(name="from")
    """HH:MM, the store's local time"""
    to: str
    """HH:MM, after `from` (exclusive)"""


class CampaignSchedule(Body):
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    hours: list[OpeningHours] | None = None


class CampaignPut(Body):
    trigger: CampaignTrigger
    sku: Id
    message: dict[Locale, LocalizedMessage]
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
