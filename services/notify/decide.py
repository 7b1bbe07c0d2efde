"""Deciding what to say to whom: pure functions of an event and its context, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

FALLBACK_LOCALE = "en"

# Used when an offer falls back to an alternative and the campaign's text does not name the product
# through {product}: never send a text written for another product.
ALTERNATIVE_TEXT = {
    "en": ("Available in your store", "{product} is available in your store today."),
    "fr": ("Disponible dans votre magasin", "{product} est disponible aujourd'hui dans votre magasin."),
}


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
class OfferContext:
    consents: dict[str, bool]
    locale: str
    product: ProductInfo | None
    alternative: ProductInfo | None


@dataclass(frozen=True)
class Decision:
    status: str  # pending (to be delivered) | suppressed
    reason: str | None = None
    sku: str | None = None
    locale: str | None = None
    title: str | None = None
    body: str | None = None


def pick_locale(wanted: str, available: dict[str, object] | list[str]) -> str:
    """fr-CA -> fr-CA, else fr, else en, else the first there is."""
    keys = list(available)
    if not keys:
        return FALLBACK_LOCALE
    lowered = {k.lower(): k for k in keys}
    for candidate in (wanted.lower(), wanted.split("-")[0].lower(), FALLBACK_LOCALE):
        if candidate in lowered:
            return lowered[candidate]
    return keys[0]


def decide_offer(messages: dict[str, tuple[str, str]], campaign_sku: str, ctx: OfferContext) -> Decision:
    """An offer is said only with the `offers` consent, about a product the store can hand over now."""
    if not ctx.consents.get("offers", False):
        return Decision("suppressed", "no_consent", sku=campaign_sku)
    if ctx.product is not None and ctx.product.available > 0:
        chosen, substituted = ctx.product, False
    elif ctx.alternative is not None and ctx.alternative.available > 0:
        chosen, substituted = ctx.alternative, True
    else:
        return Decision("suppressed", "out_of_stock", sku=campaign_sku)

    locale = pick_locale(ctx.locale, messages)
    title, body = messages[locale]
    if substituted and "{product}" not in title + body:
        fallback = pick_locale(ctx.locale, ALTERNATIVE_TEXT)
        title, body = ALTERNATIVE_TEXT[fallback]
        locale = fallback
    name = chosen.name_in(locale)
    title, body = title.replace("{product}", name), body.replace("{product}", name)
    return Decision("pending", None, sku=chosen.sku, locale=locale, title=title, body=body)
