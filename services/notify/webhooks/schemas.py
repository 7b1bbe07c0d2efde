"""Webhooks on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from shared.events import EVENT_TYPES
from shared.wire import Answer, Body

EventType = Annotated[str, msgspec.Meta(extra_json_schema={"enum": sorted(EVENT_TYPES)})]


class WebhookPut(Body):
    url: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
    events: Annotated[list[EventType], msgspec.Meta(min_length=1, max_length=100)]
    """Event types of the catalogue (zone.entered, trip.arrived, ...)."""


class Webhook(Answer):
    webhook_id: str
    url: str
    events: list[str]
    created_at: datetime
    updated_at: datetime
    secret: str | None = None
    """`whsec_` + base64: only in the answer to the PUT that created the webhook."""


class WebhookList(Answer):
    webhooks: list[Webhook]


class DeliveryAttempt(Answer):
    event_id: int
    attempt: int
    at: datetime
    status: str | None = None
    """Where the delivery stands now: pending | sending | delivered | failed."""
    status_code: int | None = None
    error: str | None = None
    next_retry_at: datetime | None = None


class DeliveryLog(Answer):
    webhook_id: str
    attempts: list[DeliveryAttempt]
