"""The example journey of the API's contract ("Garden nudge") as a document: what the journeys' unit
tests check, walk and count results of."""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from services.notify.journeys.schemas import JourneyDocument

GARDEN: dict[str, Any] = {
    "name": "Garden nudge",
    "active": True,
    "entry": {"event": "zone.entered", "store_id": "rivoli", "zone_kind": "department", "zone_id": "garden"},
    "reentry": "never",
    "holdout_percent": 10,
    "goal": {"event": "order.reserved", "within": "PT2H", "sku": "COMPOST-40L"},
    "exit_on": ["order.collected"],
    "schedule": {"hours": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "from": "09:00", "to": "19:00"}]},
    "steps": [
        {"id": "look", "type": "wait", "for": "PT5M", "next": "still"},
        {"id": "still", "type": "branch", "if": {"in_zone": {"zone_kind": "department"}}, "then": "order",
         "else": "end"},
        {"id": "order", "type": "wait_for", "event": "order.reserved", "timeout": "PT10M", "next": "end",
         "timeout_next": "offer"},
        {"id": "offer", "type": "message", "purpose": "offers", "sku": "COMPOST-40L",
         "message": {"fr": {"title": "Au jardin", "body": "{product} en stock ici"},
                     "en": {"title": "Garden", "body": "{product} in stock here"}}},
        {"id": "end", "type": "exit"},
    ],
}  # fmt: skip
"""As API.md writes it: a PUT /v1/journeys body."""


def garden(**changes: Any) -> dict[str, Any]:
    """A copy of the garden journey with these fields in place of its own."""
    journey = copy.deepcopy(GARDEN)
    journey.update(changes)
    return journey


def document(journey: dict[str, Any]) -> JourneyDocument:
    """The part of a journey a version keeps (what flow.check reads), from its JSON."""
    return msgspec.convert({k: v for k, v in journey.items() if k not in ("name", "active")}, JourneyDocument)
