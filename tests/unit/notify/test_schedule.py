"""A campaign's schedule: its dates, and weekly hours read in the store's local time; a paused or
out-of-schedule campaign says so before any other rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notify.offers.decide import Offer, decide_offer
from services.notify.offers.schedule import parse, stored
from services.notify.policy.decide import Moment, Policy, Recipient
from services.notify.replicas.products import ProductInfo
from shared.errors import Invalid

PARIS = ZoneInfo("Europe/Paris")
TUESDAY_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=PARIS)
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def hours(days: list[str], start: str, end: str) -> dict:
    return {"days": days, "from": start, "to": end}


def test_without_hours_any_time_between_the_dates_is_within() -> None:
    s = parse(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC), [])
    assert s.within(TUESDAY_NOON)
    assert not s.within(datetime(2026, 10, 31, 23, 0, tzinfo=UTC))
    assert not s.within(datetime(2026, 12, 1, tzinfo=UTC))  # the end is excluded
    assert parse(None, None, []).within(TUESDAY_NOON)


def test_hours_apply_on_their_days_only() -> None:
    s = parse(None, None, [hours(WEEKDAYS, "09:00", "19:00"), hours(["sat"], "10:00", "13:00")])
    assert s.within(TUESDAY_NOON)
    assert not s.within(TUESDAY_NOON.replace(hour=8, minute=59))
    assert s.within(TUESDAY_NOON.replace(hour=9, minute=0))
    assert not s.within(TUESDAY_NOON.replace(hour=19, minute=0))  # `to` is excluded
    saturday = TUESDAY_NOON + timedelta(days=4)
    assert s.within(saturday) and not s.within(saturday.replace(hour=13, minute=30))
    assert not s.within(TUESDAY_NOON + timedelta(days=5))  # Sunday


def test_hours_are_the_local_time_it_is_given() -> None:
    s = parse(None, None, [hours(WEEKDAYS, "09:00", "19:00")])
    # 12:00 in Paris is 06:00 in New York: open in one store, not yet in the other.
    assert s.within(TUESDAY_NOON)
    assert not s.within(TUESDAY_NOON.astimezone(ZoneInfo("America/New_York")))


def test_a_window_across_midnight_is_two_entries() -> None:
    s = parse(None, None, [hours(["fri"], "22:00", "23:59"), hours(["sat"], "00:00", "02:00")])
    friday = datetime(2026, 11, 27, tzinfo=PARIS)
    assert s.within(friday.replace(hour=23)) and s.within(friday.replace(hour=1) + timedelta(days=1))
    assert not s.within(friday.replace(hour=1))


@pytest.mark.parametrize(
    ("starts", "ends", "entries", "field"),
    [
        (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC), [], "schedule.ends_at"),
        (None, None, [hours(["mon"], "19:00", "09:00")], "schedule.hours[0].to"),
        (None, None, [hours(["mon"], "09:00", "09:00")], "schedule.hours[0].to"),
        (None, None, [hours(["monday"], "09:00", "19:00")], "schedule.hours[0].days"),
        (None, None, [hours([], "09:00", "19:00")], "schedule.hours[0].days"),
        (None, None, [hours(["mon"], "9h", "19:00")], "schedule.hours[0].from"),
        (None, None, [hours(["mon"], "09:00", "19:00"), hours(["sun"], "09:00", "24:00")], "schedule.hours[1].to"),
    ],
)
def test_a_wrong_schedule_names_its_field(starts, ends, entries, field) -> None:
    with pytest.raises(Invalid) as refused:
        parse(starts, ends, entries)
    assert refused.value.field == field


def test_a_stored_schedule_reads_back_the_same() -> None:
    raw = {"starts_at": "2026-11-01T00:00:00Z", "ends_at": None, "hours": [hours(["tue"], "09:00", "19:00")]}
    assert stored(raw) == parse(datetime(2026, 11, 1, tzinfo=UTC), None, raw["hours"])
    assert stored(None) is None


YOGHURT = ProductInfo("YOG-1", "Plain yoghurt", 3)
WHO = Recipient(consents={"offers": True}, locale="fr-FR", timezone="Europe/Paris", subscribed=True)


def test_a_paused_or_closed_campaign_says_why_before_any_other_rule() -> None:
    offer = Offer({"fr": ("Bienvenue", "{product}")}, "YOG-1", YOGHURT, None)
    moment = Moment(event_id=1, store_id="rivoli", now=TUESDAY_NOON.astimezone(UTC), store_timezone="Europe/Paris")
    assert decide_offer(offer, WHO, moment, Policy()).status == "pending"
    no_consent = replace(WHO, consents={})
    paused = decide_offer(replace(offer, paused=True), no_consent, moment, Policy())
    assert (paused.status, paused.reason, paused.sku) == ("suppressed", "paused", "YOG-1")
    evenings = parse(None, None, [hours(WEEKDAYS, "14:00", "21:00")])
    closed = decide_offer(replace(offer, schedule=evenings), WHO, moment, Policy())
    assert (closed.status, closed.reason) == ("suppressed", "outside_schedule")
    # The same instant is 15:00 in Dubai (UTC+4): the store there is open.
    dubai = replace(moment, store_timezone="Asia/Dubai")
    assert decide_offer(replace(offer, schedule=evenings), WHO, dubai, Policy()).status == "pending"
