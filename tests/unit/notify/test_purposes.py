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
    assert msgspec.structs.asdict(answer.purposes) == {"location": None, "pickup_updates": None, "offers": True}


def test_a_purpose_never_answered_is_no() -> None:
    assert purposes_of(None) == dict.fromkeys(PURPOSES, False)


def test_the_notice_explains_each_purpose_in_both_languages() -> None:
    explained = notice.purposes()
    assert tuple(explained) == PURPOSES
    assert all(set(text) == {"en", "fr"} for text in explained.values())
