"""The demo store's three journeys, as an operator would write them with `PUT /v1/journeys/{id}`:
what journeys are for, in one store.

- **Garden nudge** (`demo-garden`): a shopper who lingers in the garden department, is still there a
  few minutes later and has not ordered the compost on their phone is told it is in stock right here;
  a tenth of them (the control arm) is not, so the goal (ordering it within two hours) measures what
  the nudge adds.
- **Pickup reminder** (`demo-pickup-reminder`): an order made ready during the day and not collected
  four hours later is a reminder that the store is open until 8 pm. Only orders ready by 4 pm enter,
  so no reminder is sent after closing time; collecting it ends the journey.
- **Next-day tip** (`demo-next-day-tip`): the day after a vegetable box is collected, advice on
  keeping it fresh (the `product_tips` purpose: only to shoppers who asked for such advice).
"""

from __future__ import annotations

from typing import Any

NEXT_DAY_TIP = "demo-next-day-tip"
"""The journey the demo shopper's collection enters her in."""
WEEKDAYS_AND_SATURDAY = ["mon", "tue", "wed", "thu", "fri", "sat"]
GARDEN_ZONE = "garden"
GARDEN_DWELL_S = 60
"""A shopper is lingering in the garden department after a minute there (the zone's `dwell_s`)."""


def garden_nudge(store_id: str, sku: str) -> dict[str, Any]:
    return {
        "name": "Garden nudge",
        "entry": {"event": "zone.dwelled", "store_id": store_id, "zone_kind": "department", "zone_id": GARDEN_ZONE},
        "reentry": "P7D",
        "holdout_percent": 10,
        "goal": {"event": "order.reserved", "within": "PT2H", "sku": sku},
        "steps": [
            {"id": "browse", "type": "wait", "for": "PT2M", "next": "still-there"},
            {
                "id": "still-there",
                "type": "branch",
                "if": {"in_zone": {"zone_kind": "department", "zone_id": GARDEN_ZONE}},
                "then": "ordered",
                "else": "end",
            },
            {
                "id": "ordered",
                "type": "wait_for",
                "event": "order.reserved",
                "timeout": "PT5M",
                "next": "end",
                "timeout_next": "nudge",
            },
            {
                "id": "nudge",
                "type": "message",
                "purpose": "offers",
                "sku": sku,
                "message": {
                    "fr": {
                        "title": "Au rayon jardin",
                        "body": "{product} : en stock ici même. Demandez-nous, ou commandez-le sur votre téléphone.",
                    },
                    "en": {
                        "title": "In the garden department",
                        "body": "{product}: in stock right here. Ask us, or order it on your phone.",
                    },
                },
            },
            {"id": "end", "type": "exit"},
        ],
    }


def pickup_reminder(store_id: str) -> dict[str, Any]:
    return {
        "name": "Pickup reminder",
        "entry": {"event": "order.ready", "store_id": store_id},
        # Entries until 4 pm and a 4-hour wait: the reminder never comes after the store has closed.
        "schedule": {"hours": [{"days": WEEKDAYS_AND_SATURDAY, "from": "08:00", "to": "16:00"}]},
        "steps": [
            {
                "id": "collected",
                "type": "wait_for",
                "event": "order.collected",
                "timeout": "PT4H",
                "next": "end",
                "timeout_next": "remind",
            },
            {
                "id": "remind",
                "type": "message",
                "purpose": "pickup_updates",
                "message": {
                    "fr": {
                        "title": "Votre commande vous attend",
                        "body": "Elle est prête au point de retrait : nous sommes ouverts jusqu'à 20 h.",
                    },
                    "en": {
                        "title": "Your order is waiting",
                        "body": "It is ready at the pickup point: we are open until 8 pm.",
                    },
                },
            },
            {"id": "end", "type": "exit"},
        ],
    }


def next_day_tip(store_id: str, sku: str) -> dict[str, Any]:
    return {
        "name": "Next-day tip",
        "entry": {"event": "order.collected", "store_id": store_id, "sku": sku},
        "reentry": "P7D",
        "steps": [
            {"id": "next-day", "type": "wait", "for": "P1D", "next": "tip"},
            {
                "id": "tip",
                "type": "message",
                "purpose": "product_tips",
                "sku": sku,
                "message": {
                    "fr": {
                        "title": "{product} : une astuce",
                        "body": "Enveloppez les légumes-feuilles dans un linge humide, en bas du réfrigérateur : "
                        "ils restent croquants trois à quatre jours de plus.",
                    },
                    "en": {
                        "title": "{product}: a tip",
                        "body": "Wrap leafy greens in a damp cloth at the bottom of the fridge: "
                        "they stay crisp three or four days longer.",
                    },
                },
            },
        ],
    }


def journeys(store_id: str, garden_sku: str, box_sku: str) -> dict[str, dict[str, Any]]:
    """The three journeys by id."""
    return {
        "demo-garden": garden_nudge(store_id, garden_sku),
        "demo-pickup-reminder": pickup_reminder(store_id),
        NEXT_DAY_TIP: next_day_tip(store_id, box_sku),
    }
