"""What inventory collects about a shopper and how long it keeps it: its part of the privacy notice."""

from __future__ import annotations

from typing import Any

from services.inventory.settings import InventorySettings


def collection(config: InventorySettings) -> list[dict[str, Any]]:
    """From the running configuration, so the notice states the retention actually applied."""
    return [
        {
            "data": "orders",
            "purpose": "pickup_order",
            "what": {
                "en": "your pickup orders: the store, the products and quantities, and when each was placed,"
                " made ready, collected or canceled (after an erasure, under a pseudonym only)",
                "fr": "vos commandes à retirer : le magasin, les produits et quantités, et quand chacune a été"
                " passée, préparée, retirée ou annulée (après un effacement, sous un pseudonyme seulement)",
            },
            "kept": {"unit": "as_required_by_law", "value": None},
        },
        {
            "data": "display_name",
            "purpose": "pickup_order",
            "what": {
                "en": "the name you chose for staff to call you by, kept after the order is collected or canceled",
                "fr": "le nom que vous avez choisi pour que l'équipe vous appelle, conservé après le retrait ou"
                " l'annulation de la commande",
            },
            "kept": {"unit": "days", "value": config.display_name_retention_days},
        },
    ]
