"""Why a message came, in plain words: every kind of message, in both languages, names the place by
name (never by coordinates), the consent, the stock, what sent it and how caps and quiet hours let it."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.notify import shop
from services.notify.back_in_stock.answer import answer_reasons
from services.notify.catalogue import LOCALES, say, texts
from services.notify.journeys.decide import StepMessage, StepPlace, step_reasons
from services.notify.offers.decide import Offer, offer_reasons
from services.notify.policy.decide import Decision
from services.notify.policy.why import Reasons, Zone, explain, in_locale, why_of
from services.notify.replicas.products import ProductInfo

COORDINATES = re.compile(r"\d+[.,]\d+")
TRAIL = ProductInfo("TRAIL-1", "Trail shoes", 4, {"fr": "Chaussures de trail"})
ROAD = ProductInfo("ROAD-1", "Road shoes", 0, {"fr": "Chaussures de route"})
SENT = Decision("pending", sku="TRAIL-1", locale="en", title="t", body="b")


def offer(product: ProductInfo, alternative: ProductInfo | None = None) -> Offer:
    return Offer({"en": ("t", "b")}, product.sku, product, alternative)


def test_an_offer_names_the_zone_the_store_the_consent_the_stock_the_campaign_and_the_caps() -> None:
    reasons = offer_reasons(offer(TRAIL), SENT, "Lyon Part-Dieu", Zone(kind="pickup"), campaign="welcome")
    why = explain(reasons)
    assert why["en"] == (
        "You were in the pickup area of Lyon Part-Dieu. You said yes to offers. In stock there today: Trail shoes."
        " Sent by the campaign “welcome”. It was within your message limits and outside quiet hours."
    )
    assert why["fr"] == (
        "Vous étiez au point de retrait du magasin Lyon Part-Dieu. Vous avez accepté de recevoir des offres."
        " En stock dans ce magasin aujourd’hui : Chaussures de trail. Envoyé par la campagne « welcome »."
        " Il respectait vos limites de messages et tombait hors des heures de silence."
    )


def test_an_alternative_names_what_was_out_of_stock_and_what_replaced_it() -> None:
    why = explain(offer_reasons(offer(ROAD, TRAIL), SENT, "Rivoli", Zone(kind="store", name="Running")))
    assert why["en"].startswith("You were in “Running” at Rivoli. You said yes to offers.")
    assert "Out of stock there: Road shoes. This is about Trail shoes instead, in stock today." in why["en"]
    assert (
        "Plus en stock dans ce magasin : Chaussures de route. Ce message parle donc de Chaussures de trail" in why["fr"]
    )


def test_a_zone_without_a_name_is_called_by_its_kind() -> None:
    said = {
        kind: explain(Reasons(purpose="offers", store="Rivoli", zone=Zone(kind=kind)))
        for kind in ("store", "pickup", "department", "approach", "parking")
    }
    assert said["store"]["en"].startswith("You were at Rivoli.")
    assert said["department"]["fr"].startswith("Vous étiez dans un rayon du magasin Rivoli.")
    assert said["approach"]["en"].startswith("You were on your way to Rivoli.")
    assert said["parking"] == said["store"]  # a kind it has no words for reads as the store


def test_a_back_in_stock_answer_names_the_store_and_the_day_the_shopper_asked() -> None:
    asked = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # already 1 December in Paris
    why = explain(answer_reasons(TRAIL, "Rivoli", asked, "Europe/Paris"))
    assert why["en"] == (
        "On December 1, 2026, you asked to be told when Trail shoes came back in stock at Rivoli."
        " Back in stock there: Trail shoes. It came outside quiet hours."
    )
    assert why["fr"].startswith(
        "Le 1er décembre 2026, vous avez demandé qu’on vous prévienne du retour de Chaussures de trail au magasin"
        " Rivoli. De nouveau en stock dans ce magasin : Chaussures de trail."
    )


@pytest.mark.parametrize("step", ["ready", "arrived"])
def test_a_pickup_update_names_the_store_the_consent_and_that_it_comes_at_any_hour(step: str) -> None:
    why = explain(Reasons(purpose="pickup_updates", store="Rivoli", pickup=step))  # type: ignore[arg-type]
    assert "You said yes to pickup updates." in why["en"] and "Rivoli" in why["en"]
    assert "set aside for you" in why["en"] and "vous attendent" in why["fr"]
    assert why["en"].endswith("Pickup updates come at any hour, quiet hours included.")
    assert ("pickup area" in why["en"]) == (step == "arrived")


def test_a_journey_step_names_the_journey_and_its_step_instead_of_a_campaign() -> None:
    said = StepMessage(purpose="offers", texts={"en": ("t", "b")}, sku="TRAIL-1", product=TRAIL)
    place = StepPlace("Rivoli", Zone(kind="department", name="Garden"), "Europe/Paris")
    why = explain(step_reasons(said, SENT, place, "Green fingers", "tip"))
    assert why["en"] == (
        "You were in “Garden” at Rivoli. You said yes to offers. In stock there today: Trail shoes."
        " Sent at the step “tip” of the journey “Green fingers”."
        " It was within your message limits and outside quiet hours."
    )
    assert "Envoyé à l’étape « tip » du parcours « Green fingers »." in why["fr"]
    tips = StepMessage(purpose="product_tips", texts={"en": ("t", "b")}, sku="TRAIL-1", product=TRAIL)
    assert "You said yes to product tips." in explain(step_reasons(tips, SENT, place, "Green fingers", "tip"))["en"]


def test_a_held_message_says_until_when_in_the_device_time_zone_and_a_suppressed_one_has_none() -> None:
    held = Decision("held", "quiet_hours", sku="TRAIL-1", send_after=datetime(2026, 12, 7, 7, 0, tzinfo=UTC))
    reasons = offer_reasons(offer(TRAIL), held, "Rivoli", Zone(kind="store"))
    why = why_of(held, reasons, "Europe/Paris")
    assert why is not None
    assert why["en"].endswith("It waited for quiet hours to end, at 08:00.")
    assert why["fr"].endswith("Il a attendu la fin des heures de silence, à 08:00.")
    assert why_of(held.suppressed("frequency_cap"), reasons, "Europe/Paris") is None


def test_no_why_ever_holds_coordinates() -> None:
    kinds = [
        offer_reasons(offer(ROAD, TRAIL), SENT, "Lyon Part-Dieu", Zone(kind="pickup"), campaign="c"),
        answer_reasons(TRAIL, "Lyon Part-Dieu", datetime(2026, 12, 7, tzinfo=UTC), "UTC"),
        Reasons(purpose="pickup_updates", store="Lyon Part-Dieu", pickup="arrived"),
        Reasons(purpose="product_tips", store="Lyon Part-Dieu", product={"en": "x"}, journey="j", step="s"),
    ]
    for reasons in kinds:
        for locale, text in explain(reasons).items():
            assert not COORDINATES.search(text), (locale, text)


def test_the_push_carries_the_why_in_the_message_language() -> None:
    why = {"en": "Because.", "fr": "Parce que."}
    assert in_locale(why, "fr-CA") == "Parce que."
    assert in_locale(why, "de") == "Because."  # a language the catalogue lacks reads English
    assert in_locale(None, "fr") is None


def test_both_locales_have_the_same_texts() -> None:
    keys = [{k for k in texts(locale) if k.startswith("why.")} for locale in LOCALES]
    assert keys[0] == keys[1]


def test_the_date_of_a_request_is_the_shopper_s_day() -> None:
    reasons = answer_reasons(TRAIL, "Rivoli", datetime(2026, 3, 5, 12, tzinfo=UTC), "America/New_York")
    assert reasons.asked_on == date(2026, 3, 5)
    assert "Le 5 mars 2026" in explain(reasons)["fr"]


def test_the_service_worker_labels_its_why_action_as_the_catalogue_does() -> None:
    worker = (Path(shop.__file__).parent / "static" / "accueil-sw.js").read_text(encoding="utf-8")
    found = re.search(r"const WHY_ACTION = (\{.*?\});", worker)
    assert found is not None
    labels = json.loads(re.sub(r"(\w+):", r'"\1":', found.group(1)))
    assert labels == {locale: say(locale, "why.action") for locale in LOCALES}
