"""Dry runs on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.notify.offers.schemas import CampaignPut
from shared.wire import Answer

Days = Annotated[int, msgspec.Meta(ge=1, le=30)]


class CampaignDryRun(CampaignPut):
    """A campaign exactly as `PUT /v1/campaigns/{campaign_id}` takes it, and how far back to look."""

    days: Days = 7
    """the last this many days (1 to 30, at most the event log's retention)"""


class DryRun(Answer):
    since: datetime
    until: datetime
    events: int
    """zone events the trigger matched, of devices notify knows"""
    devices: int
    """devices those events were about: who would have entered"""
    messages: int
    """offers that would have been sent"""
    alternatives: int
    """of those, offers of an in-stock alternative (the campaign's product was out of stock)"""
    suppressed: dict[str, int]
    """reason -> offers not sent, with the message log's reasons (`no_consent`, `frequency_cap`,
    `quiet_hours`, `out_of_stock`...)"""
    as_of_now: list[str]
    """what the history does not keep, read as it is now: `push_targets` (whether a device can be
    reached), `devices` (language and time zone), `products` (names and categories),
    `store_timezones`. Consent, earlier messages and stock are read as they were."""
