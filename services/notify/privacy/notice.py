"""The privacy notice's words: what notify collects, for which purpose, kept how long. Pure: built
from the running settings, so it cannot drift from what the code does."""

from __future__ import annotations

from typing import Any

from services.notify.policy.purposes import BACK_IN_STOCK, OFFERS, PICKUP_UPDATES, PRODUCT_TIPS
from services.notify.settings import NotifySettings
from shared.events import PURPOSES, Purpose


def collection(config: NotifySettings) -> list[dict[str, Any]]:
    """What notify collects, for which purpose, kept how long: from its running settings."""
    return [
        {
            "data": "device",
            "purpose": "service",
            "what": {
                "en": (
                    f"your device's platform, language and time zone; erased {config.unconsented_device_hours}"
                    f" hours after it registered if you never answer about your choices nor ask back-in-stock"
                ),
                "fr": (
                    f"la plateforme, la langue et le fuseau horaire de votre appareil ; effacés"
                    f" {config.unconsented_device_hours} heures après son inscription si vous ne répondez jamais"
                    f" sur vos choix et ne demandez aucun retour en stock"
                ),
            },
            "kept": {"unit": "until_erased", "value": None},
        },
        {
            "data": "consents",
            "purpose": "proof_of_consent",
            "what": {
                "en": "each answer you gave, with when, which policy version and from which app",
                "fr": "chacune de vos réponses, avec la date, la version de la politique et l'application",
            },
            "kept": {"unit": "as_required_by_law", "value": None},
        },
        {
            "data": "push_subscription",
            "purpose": f"{OFFERS}, {PICKUP_UPDATES}, {PRODUCT_TIPS}, {BACK_IN_STOCK}",
            "what": {
                "en": "the address your browser gave for notifications",
                "fr": "l'adresse donnée par votre navigateur pour les notifications",
            },
            "kept": {"unit": "until_erased", "value": None},
        },
        {
            "data": "staff_alerts",
            "purpose": PICKUP_UPDATES,
            "what": {
                "en": "what store staff were told as you arrived to collect an order: your chosen name, the order",
                "fr": "ce que l'équipe du magasin a su de votre arrivée pour un retrait : le nom choisi, la commande",
            },
            "kept": {"unit": "days", "value": config.message_retention_days},
        },
        {
            "data": "back_in_stock_requests",
            "purpose": BACK_IN_STOCK,
            "what": {
                "en": (
                    f"each product you asked to be told about when back in stock, with when, the text you were"
                    f" shown and from which app; waiting at most {config.back_in_stock_days} days, then kept"
                    f" as long as the message log"
                ),
                "fr": (
                    f"chaque produit dont vous avez demandé le retour en stock, avec la date, le texte affiché et"
                    f" l'application ; en attente {config.back_in_stock_days} jours au plus, puis conservé"
                    f" comme le journal des messages"
                ),
            },
            "kept": {"unit": "days", "value": config.back_in_stock_days + config.message_retention_days},
        },
        {
            "data": "journey_enrollments",
            "purpose": f"{OFFERS}, {PICKUP_UPDATES}, {PRODUCT_TIPS}, {BACK_IN_STOCK}",
            "what": {
                "en": (
                    "the message journeys you entered (a short series of messages, such as a reminder if an order"
                    " waits): which one, the step you are at, when you entered and left, and whether you are in"
                    " the comparison group that is sent no promotion; never where you were, only the store"
                ),
                "fr": (
                    "les parcours de messages où vous êtes entré (une courte suite de messages, comme un rappel si"
                    " une commande attend) : lequel, l'étape où vous êtes, quand vous y êtes entré et sorti, et si"
                    " vous êtes dans le groupe de comparaison qui ne reçoit aucune promotion ; jamais où vous étiez,"
                    " seulement le magasin"
                ),
            },
            "kept": {"unit": "days", "value": config.message_retention_days},
        },
        {
            "data": "message_log",
            "purpose": f"{OFFERS}, {PICKUP_UPDATES}, {PRODUCT_TIPS}, {BACK_IN_STOCK}",
            "what": {
                "en": "every message decided for you, sent or not, and why",
                "fr": "chaque message décidé pour vous, envoyé ou non, et pourquoi",
            },
            "kept": {"unit": "days", "value": config.message_retention_days},
        },
    ]


_PURPOSE_TEXTS: dict[Purpose, dict[str, str]] = {
    "location": {
        "en": "to know when you are in or near a store, to send an offer there",
        "fr": "savoir quand vous êtes dans un magasin ou à proximité, pour vous y proposer une offre",
    },
    "pickup_updates": {
        "en": "to tell you your order is ready, and staff that you are arriving to collect it",
        "fr": "vous dire que votre commande est prête, et prévenir l'équipe de votre arrivée pour la retirer",
    },
    "offers": {
        "en": "to send you offers for products in stock in the store you are in",
        "fr": "vous envoyer des offres sur des produits en stock dans le magasin où vous êtes",
    },
    "product_tips": {
        "en": (
            "to send you advice on a product you collected (how to use it, what goes with it); only if you"
            " choose it: without this choice, no tip is sent"
        ),
        "fr": (
            "vous envoyer des conseils sur un produit que vous avez retiré (comment l'utiliser, ce qui va avec) ;"
            " seulement si vous le choisissez : sans ce choix, aucun conseil n'est envoyé"
        ),
    },
}


def purposes() -> dict[Purpose, dict[str, str]]:
    """Each purpose of the catalogue, in its order, with what it is for."""
    return {p: _PURPOSE_TEXTS[p] for p in PURPOSES}


RIGHTS = {
    "export": "GET /v1/devices/{device_id}/export",
    "erase": "DELETE /v1/devices/{device_id}",
    "withdraw": "PUT /v1/devices/{device_id}/consents",
}

NEVER = {
    "en": (
        "no raw IP address is stored; no location is processed without the location consent"
        " or a pickup trip you started"
    ),
    "fr": (
        "aucune adresse IP brute n'est conservée ; aucune position n'est traitée sans le consentement"
        " de localisation ou un retrait que vous avez lancé"
    ),
}


def in_language(value: Any, lang: str) -> Any:
    """Keep one language of every {"en": ..., "fr": ...} pair."""
    if isinstance(value, dict):
        if set(value) == {"en", "fr"}:
            return value[lang]
        return {k: in_language(v, lang) for k, v in value.items()}
    if isinstance(value, list):
        return [in_language(v, lang) for v in value]
    return value
