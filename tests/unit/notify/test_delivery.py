"""What each push-service answer means for a message, and what goes on the wire."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.app import DELIVERY_KINDS
from services.notify.outbox.delivery import (
    MAX_ATTEMPTS,
    outcome_of,
    parse_retry_after,
    retry_delay,
    topic_of,
)
from services.notify.outbox.kinds import DeliveryKind, DeliveryKinds, Due
from services.notify.push.webpush import MAX_PAYLOAD, payload_of
from services.notify.push.webpush import label_of as attempt_label

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=15)


def test_2xx_is_sent() -> None:
    assert outcome_of(attempt_label(201), None, 1, NOW, LATER).status == "sent"


def test_404_and_410_fail_the_message_and_drop_the_subscription() -> None:
    for code in (404, 410):
        o = outcome_of(attempt_label(code), None, 1, NOW, LATER)
        assert (o.status, o.reason, o.drop_target) == ("failed", "subscription_gone", True)


def test_a_native_token_the_push_service_no_longer_knows_fails_the_message_and_drops_the_token() -> None:
    o = outcome_of("unregistered", None, 1, NOW, LATER)
    assert (o.status, o.reason, o.drop_target) == ("failed", "unregistered", True)


def test_other_4xx_are_rejections_not_retried() -> None:
    for code in (400, 401, 403, 413):
        assert outcome_of(attempt_label(code), None, 1, NOW, LATER).reason == "push_rejected"


def test_429_5xx_and_no_answer_are_retried_with_exponential_backoff() -> None:
    for code in (429, 500, 502, 503, None):
        o = outcome_of(attempt_label(code), None, 3, NOW, LATER)
        assert (o.status, o.next_attempt_at) == ("pending", NOW + timedelta(seconds=4))


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    assert outcome_of("unavailable", "30", 1, NOW, LATER).next_attempt_at == NOW + timedelta(seconds=30)
    assert outcome_of("unavailable", "0", 3, NOW, LATER).next_attempt_at == NOW + timedelta(seconds=4)


def test_retry_after_as_an_http_date() -> None:
    when = NOW + timedelta(seconds=90)
    assert parse_retry_after(format_datetime(when, usegmt=True), NOW) == 90
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_a_retry_past_the_messages_moment_fails_it_as_expired() -> None:
    o = outcome_of("unavailable", "3600", 1, NOW, LATER)
    assert (o.status, o.reason) == ("failed", "expired")


def test_retries_stop_after_the_last_attempt() -> None:
    o = outcome_of("no_answer", None, MAX_ATTEMPTS, NOW, NOW + timedelta(days=1))
    assert (o.status, o.reason) == ("failed", "retries_exhausted")


def test_a_refused_redirect_fails_the_message() -> None:
    assert outcome_of("refused", None, 1, NOW, LATER).reason == "endpoint_not_allowed"


@given(attempts=st.integers(1, 50), retry_after=st.none() | st.integers(0, 10_000).map(str))
def test_backoff_grows_is_capped_and_never_undercuts_retry_after(attempts, retry_after):
    delay = retry_delay(attempts, retry_after, NOW)
    assert delay >= min(2 ** (attempts - 1), 600) and delay >= float(retry_after or 0)
    assert delay <= max(600, float(retry_after or 0))


def test_offers_and_tips_are_low_urgency_back_in_stock_normal_and_pickup_updates_and_staff_alerts_high() -> None:
    urgency = {k.purpose: k.urgency for k in DELIVERY_KINDS}
    assert urgency == {
        "offers": "low",
        "pickup_updates": "high",
        "staff_alerts": "high",
        "back_in_stock": "normal",
        "product_tips": "low",
    }


def test_an_offer_or_a_staff_alert_is_worth_15_minutes_a_pickup_update_or_back_in_stock_an_hour_a_tip_12() -> None:
    ttl = {k.purpose: k.ttl_s for k in DELIVERY_KINDS}
    assert ttl == {
        "offers": 900,
        "pickup_updates": 3600,
        "staff_alerts": 900,
        "back_in_stock": 3600,
        "product_tips": 12 * 3600,
    }


def test_one_purpose_has_one_delivery_kind() -> None:
    DeliveryKinds(DELIVERY_KINDS)
    with pytest.raises(ValueError, match="offers"):
        DeliveryKinds([*DELIVERY_KINDS, DeliveryKind("offers", timedelta(minutes=1), "high")])


async def test_a_message_no_feature_registered_is_not_said_one_whose_kind_checks_nothing_is() -> None:
    kinds = DeliveryKinds([DeliveryKind("staff_alerts", timedelta(minutes=15), "high")])
    due = [Due(1, "staff_alerts", None, None), Due(2, "forgotten", "d1", None)]
    assert await kinds.withdrawn(None, due) == {2}  # type: ignore[arg-type]  # no check asks the database


def test_a_topic_is_at_most_32_base64url_characters_and_stable() -> None:
    topic = topic_of("offers", "123", "welcome")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,32}", topic)
    assert topic == topic_of("offers", "123", "welcome") != topic_of("offers", "124", "welcome")


def test_a_long_body_is_shortened_to_fit_a_push() -> None:
    doc = {"id": 1, "title": "Offre", "body": "é" * 5000}
    data = payload_of(doc)
    assert len(data) <= MAX_PAYLOAD
    assert json.loads(data)["body"].endswith("…") and json.loads(data)["title"] == "Offre"
    assert json.loads(payload_of({"id": 1, "body": "short"}))["body"] == "short"


def test_a_long_why_is_shortened_before_the_body() -> None:
    doc = {"id": 1, "title": "Offre", "body": "Du compost " * 100, "why": "Parce que " * 1000}
    data = payload_of(doc)
    shown = json.loads(data)
    assert len(data) <= MAX_PAYLOAD and shown["body"] == doc["body"] and shown["why"].endswith("…")
