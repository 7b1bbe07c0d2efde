"""A product as notify's replica knows it at one store. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProductInfo:
    sku: str
    name: str
    available: int
    names: dict[str, str] = field(default_factory=dict)

    def name_in(self, locale: str) -> str:
        """The localized name in that locale or its language, else the product's own name (never
        a third language picked at random)."""
        lowered = {k.lower(): v for k, v in self.names.items()}
        return lowered.get(locale.lower()) or lowered.get(locale.split("-")[0].lower()) or self.name


@dataclass(frozen=True)
class StockLevel:
    """A store's stock of a product as the replica has it, and the id of the event it is as of."""

    available: int
    event_id: int
