"""The offer decision: consent first, never a product the store cannot hand over."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.notify.decide import OfferContext, ProductInfo, decide_offer, pick_locale

MESSAGES = {"fr": ("Bienvenue", "{product} à -20 %"), "en": ("Welcome", "{product} at 20% off")}
YOGHURT = ProductInfo("YOG-1", "Plain yoghurt", 3, {"fr": "Yaourt nature", "en": "Plain yoghurt"})
ORGANIC = ProductInfo("YOG-2", "Organic yoghurt", 2, {"fr": "Yaourt bio"})


def ctx(**kw) -> OfferContext:
    base = {"consents": {"offers": True}, "locale": "fr-FR", "product": YOGHURT, "alternative": None}
    return OfferContext(**{**base, **kw})


def test_an_in_stock_product_is_offered_in_the_devices_language() -> None:
    d = decide_offer(MESSAGES, "YOG-1", ctx())
    assert (d.status, d.sku, d.locale, d.body) == ("pending", "YOG-1", "fr", "Yaourt nature à -20 %")


def test_without_offers_consent_nothing_is_said() -> None:
    d = decide_offer(MESSAGES, "YOG-1", ctx(consents={"offers": False, "location": True}))
    assert (d.status, d.reason, d.body) == ("suppressed", "no_consent", None)


def test_out_of_stock_falls_back_to_the_alternative_with_its_own_name() -> None:
    gone = ProductInfo("YOG-1", "Plain yoghurt", 0)
    d = decide_offer(MESSAGES, "YOG-1", ctx(product=gone, alternative=ORGANIC, locale="en-GB"))
    assert (d.sku, d.body) == ("YOG-2", "Organic yoghurt at 20% off")


def test_a_campaign_text_that_does_not_name_the_product_is_not_reused_for_an_alternative() -> None:
    fixed = {"en": ("Yoghurt week", "Our plain yoghurt is back")}
    d = decide_offer(fixed, "YOG-1", ctx(product=ProductInfo("YOG-1", "Plain", 0), alternative=ORGANIC, locale="en"))
    assert d.sku == "YOG-2" and "Organic yoghurt" in d.body and "plain" not in d.body.lower()


def test_locale_falls_back_to_the_language_then_english() -> None:
    assert pick_locale("fr-CA", {"fr": 1, "en": 1}) == "fr"
    assert pick_locale("de-DE", {"fr": 1, "en": 1}) == "en"
    assert pick_locale("de", {"es": 1}) == "es"


products = st.builds(
    ProductInfo,
    sku=st.sampled_from(["A", "B", "C"]),
    name=st.sampled_from(["Apple", "Banana", "Cherry"]),
    available=st.integers(-2, 3),
    names=st.just({}),
)


@given(
    consents=st.fixed_dictionaries({"offers": st.booleans()}),
    product=st.none() | products,
    alternative=st.none() | products,
    locale=st.sampled_from(["fr", "en", "de-AT"]),
)
def test_no_offer_ever_names_an_unavailable_product_or_goes_without_consent(consents, product, alternative, locale):
    d = decide_offer(MESSAGES, "A", OfferContext(consents, locale, product, alternative))
    if d.status == "pending":
        assert consents["offers"]
        offered = product if product is not None and d.sku == product.sku and product.available > 0 else alternative
        assert offered is not None and offered.available > 0 and offered.name in d.body
        for p in (product, alternative):
            if p is not None and p.available <= 0 and p.name != offered.name:
                assert p.name not in (d.title or "") + (d.body or "")
    else:
        assert d.status == "suppressed" and d.body is None
