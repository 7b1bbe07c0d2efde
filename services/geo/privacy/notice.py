"""geo's part of the privacy notice: what it keeps, why, for how long. Pure."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from services.geo.privacy.partitions import HOUR, longest_kept
from services.geo.settings import GeoSettings


def collection(config: GeoSettings) -> list[dict[str, Any]]:
    """From the running configuration, so the periods stated are the ones enforced."""
    return [
        {
            "data": "location_pings",
            "purpose": "location",
            "what": {
                "en": (
                    "positions sent by the app (latitude, longitude, accuracy, speed, heading, time), and the"
                    " latest of them; beacon sightings are not kept, they only open and close visits"
                ),
                "fr": (
                    "positions envoyées par l'application (latitude, longitude, précision, vitesse, cap, heure),"
                    " et la plus récente d'entre elles ; les balises vues ne sont pas conservées, elles ne font"
                    " qu'ouvrir et fermer les visites"
                ),
            },
            # at most: raw pings go an hour of them at a time
            "kept": {
                "unit": "hours",
                "value": math.ceil(longest_kept(timedelta(hours=config.ping_retention_hours)) / HOUR),
            },
        },
        {
            "data": "visits",
            "purpose": "location",
            "what": {
                "en": "which store zones you entered and left, and when (no coordinates)",
                "fr": "les zones de magasin où vous êtes entré et sorti, et quand (sans coordonnées)",
            },
            "kept": {"unit": "days", "value": config.history_days},
        },
        {
            "data": "pickup_trips",
            "purpose": "pickup_updates",
            "what": {
                "en": "your trips to collect an order: status, times, distance and ETA while under way",
                "fr": "vos trajets pour retirer une commande : état, heures, distance et durée estimée en route",
            },
            "kept": {"unit": "days", "value": config.history_days},
        },
    ]
