"""Campaigns on the wire."""

from __future__ import annotations

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


class CampaignPut(Body):
    trigger: CampaignTrigger
    sku: Id
    message: dict[Locale, LocalizedMessage]
    active: bool = True


class Campaign(Answer):
    campaign_id: str
    trigger: CampaignTrigger
    sku: str
    message: dict[str, LocalizedMessage]
    active: bool
