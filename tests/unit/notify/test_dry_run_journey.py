"""A journey's dry run walks each device's hand-built history through the journey: entry, its waits
and timeouts, the events it awaits or leaves on, a consent withdrawn on the way, its arm, and the
message decided with what was true at that moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from services.notify.dry_run.journey_replay import Happening, Plan, Walker, replay
from services.notify.dry_run.simulate import Device, Product, Shelf
from services.notify.journeys.flow import check
from services.notify.journeys.schemas import JourneyDocument
from services.notify.policy.decide import Policy
from tests.support.journey_documents import GARDEN

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
UNTIL = NOON + timedelta(days=3)
YES = {"location": True, "offers": True}
SKU = GARDEN["steps"][3]["sku"]
SHELF = Shelf(products={SKU: Product(SKU, "Compost 40 L", "garden")}, now={("rivoli", SKU): 4})


def plan(**changes: object) -> Plan:
    # The garden nudge of the contract, its hours (Mon-Sat 09:00-19:00) holding at noon on a Tuesday.
    flow = check(msgspec.convert({**GARDEN, "reentry": "P1D", **changes}, JourneyDocument))
    return Plan(flow=flow, active=True, timezones={"rivoli": "UTC"}, shelf=SHELF)


def event(event_id: int, type_: str, minutes: float, *, kind: str | None = "department") -> Happening:
    zone = kind is not None and type_.startswith("zone.")
    return Happening(
        event_id,
        type_,
        "rivoli",
        "garden" if zone else None,
        kind if zone else None,
        frozenset(),
        NOON + timedelta(minutes=minutes),
    )


def walker(*happenings: Happening, arm: str = "treatment", answers=((NOON - timedelta(days=9), YES),)) -> Walker:
    return Walker(Device("en", "UTC", True, answers=answers), arm, happenings)  # type: ignore[arg-type]


def run(walkers: dict[str, Walker], p: Plan | None = None, until: datetime = UNTIL):
    return replay(p or plan(), walkers, until, Policy())


def test_a_device_that_lingers_and_orders_nothing_is_sent_the_offer_and_completes() -> None:
    out = run({"a": walker(event(1, "zone.entered", 0))})
    assert (out.entered, out.messages, out.exits) == ({"treatment": 1, "control": 0}, 1, {"completed": 1})
    assert {s: t.reached for s, t in out.steps.items()} == {"look": 1, "still": 1, "order": 1, "offer": 1}
    assert out.steps["offer"].sent == 1


def test_a_device_that_left_the_zone_before_the_branch_takes_the_else() -> None:
    out = run({"a": walker(event(1, "zone.entered", 0), event(2, "zone.exited", 3))})
    assert (out.messages, out.exits, out.steps["end"].reached) == (0, {"completed": 1}, 1)


def test_the_awaited_event_moves_the_wait_for_on_before_its_timeout() -> None:
    out = run({"a": walker(event(1, "zone.entered", 0), event(2, "order.reserved", 8))})
    assert (out.messages, out.exits, "offer" in out.steps) == (0, {"completed": 1}, False)


def test_an_exit_event_makes_the_device_leave() -> None:
    out = run({"a": walker(event(1, "zone.entered", 0), event(2, "order.collected", 2))})
    assert (out.messages, out.exits) == (0, {"exit_event": 1})


def test_withdrawing_a_consent_on_the_way_makes_the_device_leave() -> None:
    answers = ((NOON - timedelta(days=9), YES), (NOON + timedelta(minutes=7), {"location": True, "offers": False}))
    out = run({"a": walker(event(1, "zone.entered", 0), answers=answers)})
    assert (out.messages, out.exits) == (0, {"consent_withdrawn": 1})


def test_the_control_arm_walks_it_but_is_told_nothing() -> None:
    out = run({"a": walker(event(1, "zone.entered", 0), arm="control")})
    assert (out.entered, out.messages, out.suppressed) == ({"treatment": 0, "control": 1}, 0, {"holdout": 1})


def test_a_device_enters_again_only_once_its_reentry_delay_is_over() -> None:
    visits = [event(1, "zone.entered", 0), event(2, "zone.entered", 120), event(3, "zone.entered", 60 * 26)]
    out = run({"a": walker(*visits)})
    assert (out.events, out.entered["treatment"], len(out.devices)) == (3, 2, 1)
    # The second day's offer: the daily cap is per store and day, and the first was the day before.
    assert out.messages == 2


def test_an_event_the_entry_does_not_match_counts_nothing() -> None:
    out = run({"a": walker(event(1, "zone.entered", 0, kind="store"), event(2, "zone.dwelled", 1))})
    assert (out.events, out.devices, out.messages) == (0, set(), 0)


def test_a_device_never_asked_enters_but_is_not_told() -> None:
    out = run({"a": walker(event(1, "zone.entered", 0), answers=())})
    assert (out.entered["treatment"], out.suppressed) == (1, {"no_consent": 1})


def test_timers_past_the_end_of_the_history_do_not_run() -> None:
    out = run({"a": walker(event(1, "zone.entered", 0))}, until=NOON + timedelta(minutes=3))
    assert (out.entered["treatment"], out.exits, {s: t.reached for s, t in out.steps.items()}) == (1, {}, {"look": 1})


def test_a_paused_journey_lets_nobody_in() -> None:
    paused = Plan(flow=plan().flow, active=False, timezones={}, shelf=SHELF)
    out = run({"a": walker(event(1, "zone.entered", 0))}, paused)
    assert (out.events, out.devices, out.entered["treatment"], out.messages, out.suppressed) == (1, set(), 0, 0, {})


def test_the_stock_of_the_moment_decides_the_offer() -> None:
    empty = Shelf(products=SHELF.products, now={("rivoli", SKU): 0})
    gone = Plan(flow=plan().flow, active=True, timezones={}, shelf=empty)
    out = run({"a": walker(event(1, "zone.entered", 0))}, gone)
    assert out.suppressed == {"out_of_stock": 1}
