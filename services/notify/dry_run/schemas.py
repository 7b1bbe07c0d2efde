"""Dry runs on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.notify.journeys.schemas import JourneyPut
from services.notify.offers.schemas import CampaignPut
from shared.wire import Answer, Id

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


class JourneyDryRun(JourneyPut):
    """A journey exactly as `PUT /v1/journeys/{journey_id}` takes it, and how far back to look."""

    days: Days = 7
    """the last this many days (1 to 30, at most the event log's retention)"""
    journey_id: Id | None = None
    """the id it would be saved under: each device walks the arm it would be drawn for that journey"""


class DryRunStep(Answer):
    reached: int
    """entries that got to the step"""
    sent: int | None = None
    """message steps: messages that would have been sent"""
    suppressed: dict[str, int] | None = None
    """message steps: reason -> messages not sent (`holdout` for the control arm)"""


class JourneyDryRunAnswer(Answer):
    since: datetime
    until: datetime
    events: int
    """events the entry matches, of devices notify knows (a device already in the journey enters on none)"""
    devices: int
    """devices that would have entered"""
    entered: dict[str, int]
    """arm -> entries"""
    messages: int
    """messages that would have been sent"""
    suppressed: dict[str, int]
    """reason -> messages not sent, with the message log's reasons"""
    steps: dict[str, DryRunStep]
    exits: dict[str, int]
    """reason -> entries that would have left by the end (the others would still be in it)"""
    as_of_now: list[str]
    """what the history does not keep, read as it is now (see DryRun.as_of_now), and
    `back_in_stock_requests` (a back-in-stock step's open request)"""
