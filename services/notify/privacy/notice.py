"""The privacy notice: what notify collects, for which purpose, kept how long. Pure: built from the
running settings, so it cannot drift from what the code does; its words are the catalogue's
(`privacy.notice.`), with the settings' figures filled in."""

from __future__ import annotations

from typing import Any

from services.notify import catalogue
from services.notify.policy.purposes import BACK_IN_STOCK, OFFERS, PICKUP_UPDATES, PRODUCT_TIPS
from services.notify.settings import NotifySettings
from shared.events import PURPOSES, Purpose


def _words(key: str, **values: object) -> dict[str, str]:
    """A text of the privacy part of the catalogue in every language: {"en": ..., "fr": ...}."""
    return {locale: catalogue.say(locale, f"privacy.{key}", **values) for locale in catalogue.LOCALES}


def collection(config: NotifySettings) -> list[dict[str, Any]]:
    """What notify collects, for which purpose, kept how long: from its running settings."""
    return [
        {
            "data": "device",
            "purpose": "service",
            "what": _words("notice.data.device", hours=config.unconsented_device_hours),
            "kept": {"unit": "until_erased", "value": None},
        },
        {
            "data": "consents",
            "purpose": "proof_of_consent",
            "what": _words("notice.data.consents"),
            "kept": {"unit": "as_required_by_law", "value": None},
        },
        {
            "data": "push_subscription",
            "purpose": f"{OFFERS}, {PICKUP_UPDATES}, {PRODUCT_TIPS}, {BACK_IN_STOCK}",
            "what": _words("notice.data.push_subscription"),
            "kept": {"unit": "until_erased", "value": None},
        },
        {
            "data": "staff_alerts",
            "purpose": PICKUP_UPDATES,
            "what": _words("notice.data.staff_alerts"),
            "kept": {"unit": "days", "value": config.message_retention_days},
        },
        {
            "data": "back_in_stock_requests",
            "purpose": BACK_IN_STOCK,
            "what": _words("notice.data.back_in_stock_requests", days=config.back_in_stock_days),
            "kept": {"unit": "days", "value": config.back_in_stock_days + config.message_retention_days},
        },
        {
            "data": "journey_enrollments",
            "purpose": f"{OFFERS}, {PICKUP_UPDATES}, {PRODUCT_TIPS}, {BACK_IN_STOCK}",
            "what": _words("notice.data.journey_enrollments"),
            "kept": {"unit": "days", "value": config.message_retention_days},
        },
        {
            "data": "message_log",
            "purpose": f"{OFFERS}, {PICKUP_UPDATES}, {PRODUCT_TIPS}, {BACK_IN_STOCK}",
            "what": _words("notice.data.message_log"),
            "kept": {"unit": "days", "value": config.message_retention_days},
        },
    ]


def purposes() -> dict[Purpose, dict[str, str]]:
    """Each purpose of the catalogue, in its order, with what it is for."""
    return {p: _words(f"notice.purpose.{p}") for p in PURPOSES}


RIGHTS = {
    "export": "GET /v1/devices/{device_id}/export",
    "erase": "DELETE /v1/devices/{device_id}",
    "withdraw": "PUT /v1/devices/{device_id}/consents",
}

NEVER = _words("notice.never")


def in_language(value: Any, lang: str) -> Any:
    """Keep one language of every {"en": ..., "fr": ...} pair."""
    if isinstance(value, dict):
        if set(value) == {"en", "fr"}:
            return value[lang]
        return {k: in_language(v, lang) for k, v in value.items()}
    if isinstance(value, list):
        return [in_language(v, lang) for v in value]
    return value
