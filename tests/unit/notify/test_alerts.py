"""What staff and the shopper are told as a car comes in, in their language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.notify.staff_alerts.alerts import (
    AlertRow,
    answer,
    minutes,
    shopper_texts,
    short_ref,
    staff_push,
    staff_text,
)

AT = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)


def alert(kind: str = "approaching", **fields: object) -> AlertRow:
    base = {
        "alert_id": 1,
        "store_id": "rivoli",
        "trip_id": "trip_1",
        "kind": kind,
        "event_id": 7,
        "at": AT,
        "created_at": AT,
        "created_seq": 1,
        "seq": 1,
        "order_id": "ord_KQ2MZ7WPA4XR8F3K",
        "display_name": "Camille",
        "bay": "bay 2",
        "eta_s": 240,
    }
    return AlertRow(**{**base, **fields})


def test_the_order_is_named_by_its_last_four_letters_or_digits_upper_cased() -> None:
    assert short_ref("ord_KQ2MZ7WPA4XR8F3K") == "8F3K"
    assert short_ref("ord_ab-c9") == "ABC9"
    assert short_ref(None) is None and short_ref("--") is None


@given(st.text(min_size=1, max_size=64))
def test_an_order_reference_is_at_most_four_upper_case_letters_or_digits(order_id: str) -> None:
    ref = short_ref(order_id)
    assert ref is None or (1 <= len(ref) <= 4 and ref == ref.upper() and ref.isascii() and ref.isalnum())


def test_an_eta_is_said_in_whole_minutes_and_never_zero() -> None:
    assert [minutes(s) for s in (0, 20, 89, 90, 240, 269)] == [1, 1, 1, 2, 4, 4]


def test_an_approaching_alert_reads_like_the_contract() -> None:
    assert staff_text(alert(), "en") == "Camille (order 8F3K) is 4 min away — bay 2"


def test_an_arrival_alert_reads_like_the_contract() -> None:
    assert staff_text(alert("arrived", eta_s=0), "en-GB") == "Camille has arrived — bay 2"


def test_staff_read_alerts_in_their_language() -> None:
    assert staff_text(alert(), "fr-FR") == "Camille (commande 8F3K) arrive dans 4 min — bay 2"
    assert staff_text(alert("arrived"), "fr") == "Camille est là — bay 2"
    assert staff_text(alert(), "de-DE") == "Camille (order 8F3K) is 4 min away — bay 2"  # English otherwise


def test_an_alert_without_a_name_a_bay_or_an_eta_still_reads_well() -> None:
    bare = alert(display_name=None, bay=None, eta_s=None, order_id=None)
    assert staff_text(bare, "en") == "A customer is on the way"
    assert staff_text(alert("arrived", display_name=None, bay=None), "fr") == "Un client est là"


@given(
    kind=st.sampled_from(["approaching", "arrived"]),
    name=st.none() | st.text(min_size=1, max_size=40),
    bay=st.none() | st.text(min_size=1, max_size=20),
    eta_s=st.none() | st.integers(min_value=0, max_value=20_000),
    locale=st.sampled_from(["en", "fr", "fr-CA", "de", "en-GB"]),
)
def test_an_alert_starts_with_who_and_ends_with_the_bay_when_there_is_one(kind, name, bay, eta_s, locale) -> None:
    text = staff_text(alert(kind, display_name=name, bay=bay, eta_s=eta_s), locale)
    assert text.startswith(name or ("Un client" if locale.startswith("fr") else "A customer"))
    if bay:
        assert text.endswith(f" — {bay}")


def test_a_staff_push_is_titled_with_the_order_and_says_the_alert() -> None:
    assert staff_push(alert(), "en") == ("en", "Pickup — order 8F3K", "Camille (order 8F3K) is 4 min away — bay 2")
    assert staff_push(alert("arrived"), "fr-FR")[:2] == ("fr", "Retrait — commande 8F3K")


def test_the_shopper_hears_the_order_is_ready_then_that_we_see_them() -> None:
    ready = shopper_texts("ready", "ord_KQ2MZ7WPA4XR8F3K", None)
    assert ready["en"] == (
        "Your order is ready",
        "Order 8F3K is ready to collect. Tap “I'm on my way” when you set off.",
    )
    assert ready["fr"][0] == "Votre commande est prête"
    arrived = shopper_texts("arrived", "ord_1", "bay 2")
    assert arrived["en"] == ("We see you", "We see you — a colleague is coming to bay 2")
    assert arrived["fr"] == ("On vous voit", "On vous voit — un collègue arrive au point de retrait bay 2")
    assert shopper_texts("arrived", "ord_1", None)["en"][1] == "We see you — a colleague is coming out with your order"


def test_an_alert_is_open_then_acked_then_closed() -> None:
    assert alert().status == "open"
    assert alert(acked_at=AT).status == "acked"
    assert alert(acked_at=AT, closed_at=AT, outcome="completed").status == "closed"


def test_an_approaching_alert_says_when_the_car_should_pull_in() -> None:
    assert alert(eta_s=240).expected_at == AT + timedelta(minutes=4)
    assert alert("arrived", eta_s=0).expected_at is None


def test_the_answer_carries_the_facts_and_the_text_in_the_readers_language() -> None:
    shown = answer(alert(acked_by="stf_1", acked_by_name="Alex", acked_at=AT), "fr")
    assert (shown.status, shown.order_ref, shown.acked_by_name) == ("acked", "8F3K", "Alex")
    assert shown.text == "Camille (commande 8F3K) arrive dans 4 min — bay 2"
