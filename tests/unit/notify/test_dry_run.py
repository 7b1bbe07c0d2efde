"""A campaign's dry run replays a hand-built history with what was true at each moment: the consent
then in force, the caps as earlier messages and the dry run's own filled them, the stock of that
moment, quiet hours in the device's time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.notify.dry_run.simulate import (
    Campaign,
    Device,
    History,
    Product,
    Shelf,
    StockChange,
    Trigger,
    Visit,
    dry_run,
)
from services.notify.policy.decide import Past, Policy

POLICY = Policy()  # 1 offer per store and day, 3 a week, quiet 21:00-08:00
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
CAMPAIGN = Campaign(
    trigger=Trigger("zone.entered", store_id="rivoli", zone_kind="department"),
    sku="YOG-1",
    messages={"en": ("Welcome", "{product} at 20% off")},
)
YOGHURT = Product("YOG-1", "Plain yoghurt", "dairy")
ORGANIC = Product("YOG-2", "Organic yoghurt", "dairy")
SHELF = Shelf(products={"YOG-1": YOGHURT, "YOG-2": ORGANIC}, now={("rivoli", "YOG-1"): 5})
YES = {"location": True, "offers": True}
EARLY = MONDAY - timedelta(days=30)


def visit(event_id: int, device: str, at: datetime, *, kind: str = "department", store: str = "rivoli") -> Visit:
    return Visit(event_id, "zone.entered", device, store, "dairy", kind, 0.9, at, at + timedelta(seconds=1))


def device(*answers: tuple[datetime, dict[str, bool]], said: tuple[Past, ...] = (), tz: str = "UTC") -> Device:
    return Device("en", tz, True, answers=answers or ((EARLY, YES),), said=said)


def run(visits: list[Visit], devices: dict[str, Device], shelf: Shelf = SHELF, campaign: Campaign = CAMPAIGN):
    return dry_run(campaign, History(tuple(visits), devices, shelf, {"rivoli": "UTC"}), POLICY)


def day(n: int, hour: int = 12) -> datetime:
    return MONDAY + timedelta(days=n, hours=hour)


def test_each_matching_visit_of_a_consenting_device_would_be_sent_once_a_day() -> None:
    out = run([visit(1, "a", day(0)), visit(2, "a", day(1)), visit(3, "b", day(0))], {"a": device(), "b": device()})
    assert (out.events, len(out.devices), out.messages, out.suppressed) == (3, 2, 3, {})


def test_visits_the_trigger_does_not_match_and_unknown_devices_are_not_counted() -> None:
    out = run(
        [visit(1, "a", day(0), kind="store"), visit(2, "a", day(0), store="opera"), visit(3, "ghost", day(0))],
        {"a": device()},
    )
    assert (out.events, out.devices, out.messages) == (0, set(), 0)


def test_the_consent_in_force_at_the_time_decides_not_the_one_now() -> None:
    withdrawn = device((EARLY, YES), (day(1, 0), {"location": True, "offers": False}))
    granted_late = device((EARLY, {"location": True}), (day(1, 0), YES))
    out = run(
        [visit(1, "w", day(0)), visit(2, "w", day(2)), visit(3, "g", day(0)), visit(4, "g", day(2))],
        {"w": withdrawn, "g": granted_late},
    )
    assert (out.messages, out.suppressed) == (2, {"no_consent": 2})


def test_a_device_never_asked_has_no_consent() -> None:
    out = run([visit(1, "a", day(0))], {"a": Device("en", "UTC", True)})
    assert out.suppressed == {"no_consent": 1}


def test_messages_already_in_the_log_fill_the_weekly_cap() -> None:
    earlier = tuple(Past(90 + i, "offers", "opera", "X", day(i, 10)) for i in range(3))  # Mon, Tue, Wed
    out = run([visit(1, "a", day(3))], {"a": device(said=earlier)})  # Thursday, same ISO week
    assert out.suppressed == {"frequency_cap": 1}


def test_messages_said_after_the_visit_do_not_count_against_it() -> None:
    later = tuple(Past(90 + i, "offers", "opera", "X", day(3, 10 + i)) for i in range(3))
    out = run([visit(1, "a", day(2))], {"a": device(said=later)})
    assert out.messages == 1


def test_the_dry_runs_own_messages_count_against_the_cap_of_that_device_only() -> None:
    visits = [visit(i, "a", day(i)) for i in range(4)] + [visit(10, "b", day(3))]
    out = run(visits, {"a": device(), "b": device()})
    assert (out.messages, out.suppressed) == (4, {"frequency_cap": 1})


def test_a_second_visit_the_same_day_at_the_same_store_is_a_duplicate() -> None:
    out = run([visit(1, "a", day(0, 10)), visit(2, "a", day(0, 15))], {"a": device()})
    assert (out.messages, out.suppressed) == (1, {"duplicate": 1})


def test_a_visit_in_quiet_hours_in_the_devices_time_zone_is_counted_as_quiet_hours() -> None:
    # 21:30 UTC is 22:30 in Paris (quiet) and 16:30 in New York (not quiet).
    late = day(0, 21) + timedelta(minutes=30)
    out = run(
        [visit(1, "paris", late), visit(2, "ny", late)],
        {"paris": device(tz="Europe/Paris"), "ny": device(tz="America/New_York")},
    )
    assert (out.messages, out.suppressed) == (1, {"quiet_hours": 1})


def test_an_offer_held_through_quiet_hours_still_counts_against_the_cap() -> None:
    out = run([visit(1, "a", day(0, 21)), visit(2, "a", day(0, 23))], {"a": device()})
    assert out.suppressed == {"quiet_hours": 1, "duplicate": 1}


def test_the_stock_of_the_moment_decides_rebuilt_from_the_logged_changes() -> None:
    # Out of stock from Tuesday to Wednesday morning; back in since (5 now), no alternative in stock.
    changes = (StockChange(day(1, 0), 5, 0), StockChange(day(2, 8), 0, 5))
    shelf = replace(SHELF, changes={("rivoli", "YOG-1"): changes})
    visits = [visit(1, "a", day(0)), visit(2, "b", day(1)), visit(3, "c", day(2))]
    out = run(visits, {"a": device(), "b": device(), "c": device()}, shelf)
    assert (out.messages, out.suppressed) == (2, {"out_of_stock": 1})


def test_before_the_first_logged_change_the_stock_is_what_that_change_started_from() -> None:
    shelf = replace(SHELF, now={("rivoli", "YOG-1"): 0}, changes={("rivoli", "YOG-1"): (StockChange(day(2), 4, 0),)})
    out = run([visit(1, "a", day(0)), visit(2, "b", day(3))], {"a": device(), "b": device()}, shelf)
    assert (out.messages, out.suppressed) == (1, {"out_of_stock": 1})


def test_an_in_stock_alternative_of_that_moment_is_offered_instead() -> None:
    shelf = Shelf(
        products={"YOG-1": YOGHURT, "YOG-2": ORGANIC},
        now={("rivoli", "YOG-1"): 0, ("rivoli", "YOG-2"): 0},
        changes={("rivoli", "YOG-2"): (StockChange(day(1), 3, 0),)},
    )
    out = run([visit(1, "a", day(0)), visit(2, "b", day(2))], {"a": device(), "b": device()}, shelf)
    assert (out.messages, out.alternatives, out.suppressed) == (1, 1, {"out_of_stock": 1})


def test_a_late_upload_is_decided_when_it_was_published() -> None:
    late = replace(visit(1, "a", day(0)), published_at=day(0) + timedelta(hours=3))
    out = run([late], {"a": device()})
    assert out.suppressed == {"expired": 1}


def test_a_paused_campaign_would_say_nothing() -> None:
    out = run([visit(1, "a", day(0))], {"a": device()}, campaign=replace(CAMPAIGN, active=False))
    assert (out.events, out.messages, out.suppressed) == (1, 0, {"paused": 1})


def test_the_history_is_replayed_in_the_order_it_was_published() -> None:
    # Given out of order, the earlier visit still takes the day's offer.
    out = run([visit(2, "a", day(0, 15)), visit(1, "a", day(0, 10))], {"a": device()})
    assert (out.messages, out.suppressed) == (1, {"duplicate": 1})
