"""notify asks, proves and explains consent for exactly the purposes of the event catalogue."""

from __future__ import annotations

import msgspec

from services.notify.consent.schemas import ConsentPut, Purposes
from services.notify.consent.service import purposes_of
from services.notify.privacy import notice
from shared.events import PURPOSES


def test_a_consent_answer_has_one_optional_field_per_purpose() -> None:
    assert Purposes.__struct_fields__ == PURPOSES
    answer = msgspec.json.decode(
        b'{"policy_version": "v1", "purposes": {"offers": true, "nope": true}}', type=ConsentPut
    )
    assert msgspec.structs.asdict(answer.purposes) == {
        "location": None,
        "pickup_updates": None,
        "offers": True,
        "product_tips": None,
    }


def test_product_tips_is_a_purpose_of_its_own_asked_like_the_others() -> None:
    answer = msgspec.json.decode(b'{"policy_version": "v1", "purposes": {"product_tips": true}}', type=ConsentPut)
    assert msgspec.structs.asdict(answer.purposes)["product_tips"] is True
    assert purposes_of(None)["product_tips"] is False  # never given by default


def test_a_purpose_never_answered_is_no() -> None:
    assert purposes_of(None) == dict.fromkeys(PURPOSES, False)


def test_the_notice_explains_each_purpose_in_both_languages() -> None:
    explained = notice.purposes()
    assert tuple(explained) == PURPOSES
    assert all(set(text) == {"en", "fr"} for text in explained.values())


def test_the_notice_says_product_tips_are_a_choice_and_none_is_sent_without_it() -> None:
    tips = notice.purposes()["product_tips"]
    assert "product you collected" in tips["en"] and "no tip is sent" in tips["en"]
    assert "produit que vous avez retiré" in tips["fr"] and "aucun conseil n'est envoyé" in tips["fr"]
