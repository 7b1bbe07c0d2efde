"""A journey's flow: checked once when it is saved, every refusal naming the path of what is wrong;
then walked by a device from step to step until it parks at a wait, awaits its event, or ends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from services.notify.journeys.flow import RETRY, Facts, Flow, check, walk
from services.notify.journeys.schemas import JourneyPut
from shared.errors import Invalid
from tests.support.journey_documents import GARDEN, document, garden

TEXTS = {"en": {"title": "Garden", "body": "{product} in stock here"}}


def flow_of(steps: list[dict[str, Any]], **fields: Any) -> Flow:
    return check(document({"entry": {"event": "zone.entered"}, "steps": steps, **fields}))


def refused(journey: dict[str, Any]) -> str | None:
    """The path the refusal names."""
    with pytest.raises(Invalid) as caught:
        check(document(journey))
    return caught.value.field


def garden_step(i: int, **changes: Any) -> dict[str, Any]:
    """The garden journey with step i changed (a value None drops the field)."""
    journey = garden()
    step = journey["steps"][i]
    for key, value in changes.items():
        if value is None:
            step.pop(key, None)
        else:
            step[key] = value
    return journey


def facts(zones: frozenset[tuple[str, str]] | None = frozenset(), **kw: Any) -> Facts:
    return Facts(
        zones_here=zones,
        stock=kw.get("stock", {}),
        consents=kw.get("consents", {}),
        seen=frozenset(kw.get("seen", ())),
    )


IN_GARDEN = frozenset({("department", "garden")})
WAIT = {"id": "w", "type": "wait", "for": "PT1M", "next": "x"}
EXIT = {"id": "x", "type": "exit"}


# ------------------------------------------------------------------------------------ checking


def test_the_contracts_example_is_a_valid_journey() -> None:
    msgspec.convert(GARDEN, JourneyPut)  # the wire's own limits
    flow = check(document(GARDEN))
    assert flow.first == "look" and list(flow.steps) == ["look", "still", "order", "offer", "end"]
    assert flow.holdout_percent == 10 and flow.reentry is None
    assert flow.goal is not None and (flow.goal.event, flow.goal.within) == ("order.reserved", timedelta(hours=2))
    assert flow.exit_on == {"order.collected"}
    assert flow.purposes == {"location", "offers"}
    assert flow.schedule is not None


def test_step_ids_are_unique() -> None:
    journey = garden()
    journey["steps"][3]["id"] = "order"
    assert refused(journey) == "steps[3].id"


@pytest.mark.parametrize(
    ("i", "name", "path"),
    [
        (0, "next", "steps[0].next"),
        (1, "then", "steps[1].then"),
        (1, "else", "steps[1].else"),
        (2, "next", "steps[2].next"),
        (2, "timeout_next", "steps[2].timeout_next"),
        (3, "next", "steps[3].next"),
    ],
)
def test_every_reference_resolves(i: int, name: str, path: str) -> None:
    assert refused(garden_step(i, **{name: "nowhere"})) == path


def test_every_step_is_reachable_from_the_first() -> None:
    journey = garden_step(1, then="end")  # nothing leads to `order` any more, nor to `offer` through it
    assert refused(journey) == "steps[2]"
    journey = garden_step(2, timeout_next=None)  # `offer` alone is left out
    assert refused(journey) == "steps[3]"


def test_a_loop_of_branches_and_messages_is_refused_naming_a_step_in_it() -> None:
    steps = [
        {"id": "w", "type": "wait", "for": "PT1M", "next": "b"},
        {"id": "b", "type": "branch", "if": {"consent": "offers"}, "then": "m", "else": "x"},
        {"id": "m", "type": "message", "purpose": "pickup_updates", "message": {"en": {"title": "t", "body": "b"}},
         "next": "b"},
        EXIT,
    ]  # fmt: skip
    with pytest.raises(Invalid) as caught:
        flow_of(steps)
    assert caught.value.field == "steps[1]"


def test_a_branch_leading_to_itself_is_a_loop() -> None:
    steps = [{"id": "b", "type": "branch", "if": {"had_event": "zone.exited"}, "then": "b", "else": "x"}, EXIT]
    with pytest.raises(Invalid) as caught:
        flow_of(steps)
    assert caught.value.field == "steps[0]"


def test_a_loop_through_a_wait_or_a_wait_for_is_allowed() -> None:
    flow_of([
        {"id": "w", "type": "wait", "for": "PT1M", "next": "b"},
        {"id": "b", "type": "branch", "if": {"had_event": "zone.exited"}, "then": "x", "else": "w"},
        EXIT,
    ])  # fmt: skip
    flow_of([
        {"id": "f", "type": "wait_for", "event": "zone.dwelled", "timeout": "PT1M", "next": "x", "timeout_next": "b"},
        {"id": "b", "type": "branch", "if": {"in_stock": "YOG-1"}, "then": "x", "else": "f"},
        EXIT,
    ])  # fmt: skip


def test_at_most_fifty_steps() -> None:
    steps = [{"id": f"s{i}", "type": "wait", "for": "PT1S", "next": f"s{i + 1}"} for i in range(49)]
    fifty = garden(steps=[*steps, {"id": "s49", "type": "exit"}])
    msgspec.convert(fifty, JourneyPut)
    check(document(fifty))
    fifty_one = garden(steps=[*steps, {"id": "s49", "type": "wait", "for": "PT1S", "next": "s50"},
                              {"id": "s50", "type": "exit"}])  # fmt: skip
    with pytest.raises(msgspec.ValidationError, match=r"at `\$\.steps`"):
        msgspec.convert(fifty_one, JourneyPut)


@pytest.mark.parametrize(
    ("journey", "path"),
    [
        (garden_step(0, **{"for": "PT0S"}), "steps[0].for"),
        (garden_step(2, timeout="PT0S"), "steps[2].timeout"),
        (garden(goal={"event": "order.reserved", "within": "PT0S"}), "goal.within"),
        (garden(reentry="PT0S"), "reentry"),
        (garden_step(0, **{"for": "P91D"}), "steps[0].for"),  # and at most 90 days
        (garden_step(2, timeout="P13W"), "steps[2].timeout"),
    ],
)
def test_durations_are_at_least_one_second(journey: dict[str, Any], path: str) -> None:
    assert refused(journey) == path


def test_one_second_is_enough() -> None:
    check(document(garden_step(0, **{"for": "PT1S"})))
    check(document(garden(reentry="P90D")))


@pytest.mark.parametrize("share", [-1, 51, 100])
def test_the_holdout_is_0_to_50_percent(share: int) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"at `\$\.holdout_percent`"):
        msgspec.convert(garden(holdout_percent=share), JourneyPut)
    for allowed in (0, 50):
        msgspec.convert(garden(holdout_percent=allowed), JourneyPut)


@pytest.mark.parametrize(
    "condition",
    [{}, {"in_stock": "COMPOST-40L", "consent": "offers"}, {"in_zone": {}, "had_event": "zone.exited"}],
)
def test_an_if_holds_exactly_one_condition(condition: dict[str, Any]) -> None:
    assert refused(garden_step(1, **{"if": condition})) == "steps[1].if"


@pytest.mark.parametrize("purpose", ["offers", "back_in_stock"])
def test_a_message_about_a_product_on_the_shelf_names_its_sku(purpose: str) -> None:
    assert refused(garden_step(3, purpose=purpose, sku=None)) == "steps[3].sku"


@pytest.mark.parametrize("purpose", ["pickup_updates", "product_tips"])
def test_other_messages_need_no_sku_unless_they_name_the_product(purpose: str) -> None:
    plain = {"en": {"title": "Garden", "body": "Our garden is open"}}
    check(document(garden_step(3, purpose=purpose, sku=None, message=plain)))
    assert refused(garden_step(3, purpose=purpose, sku=None)) == "steps[3].sku"  # "{product} in stock here"
    in_title = {"en": {"title": "{product}", "body": "Our garden is open"}}
    assert refused(garden_step(3, purpose=purpose, sku=None, message=in_title)) == "steps[3].sku"


@pytest.mark.parametrize("name", ["zone_kind", "zone_id"])
@pytest.mark.parametrize("event", ["trip.arrived", "order.reserved"])
def test_zone_filters_are_for_zone_events_only(name: str, event: str) -> None:
    entry = {"event": event, name: "garden" if name == "zone_id" else "department"}
    assert refused(garden(entry=entry)) == f"entry.{name}"
    for zone_event in ("zone.entered", "zone.dwelled", "zone.exited"):
        check(document(garden(entry={**entry, "event": zone_event})))


def test_sku_filters_are_for_order_events_only() -> None:
    assert refused(garden(entry={"event": "zone.entered", "sku": "COMPOST-40L"})) == "entry.sku"
    check(document(garden(entry={"event": "order.collected", "sku": "COMPOST-40L"})))
    assert refused(garden(goal={"event": "zone.dwelled", "within": "PT1H", "sku": "COMPOST-40L"})) == "goal.sku"


def test_the_consents_a_withdrawal_leaves_on_are_location_and_the_message_purposes() -> None:
    flow = flow_of([
        {"id": "a", "type": "message", "purpose": "product_tips", "message": {"en": {"title": "t", "body": "b"}},
         "next": "b"},
        {"id": "b", "type": "message", "purpose": "back_in_stock", "sku": "YOG-1", "message": TEXTS},
    ])  # fmt: skip
    assert flow.purposes == {"location", "product_tips"}  # a back-in-stock answer's consent is its request


# ------------------------------------------------------------------------------------ walking


def test_the_first_wait_parks_the_device_for_its_duration() -> None:
    flow = check(document(GARDEN))
    walked = walk(flow, flow.first, flow.first, facts())
    assert (walked.reached, walked.messages, walked.step, walked.ran) == (("look",), (), "look", True)
    assert walked.wake_after == timedelta(minutes=5) and walked.awaiting is None and walked.exit is None


def test_in_the_department_the_device_goes_on_to_wait_for_its_order() -> None:
    flow = check(document(GARDEN))
    walked = walk(flow, flow.after_parking("look"), "look", facts(IN_GARDEN))
    assert (walked.reached, walked.step, walked.ran) == (("still", "order"), "order", True)
    assert walked.awaiting == "order.reserved" and walked.wake_after == timedelta(minutes=10)
    assert walked.exit is None


def test_in_a_department_of_another_name_the_kind_alone_decides() -> None:
    flow = check(document(GARDEN))
    walked = walk(flow, "still", "look", facts(frozenset({("department", "kitchen")})))
    assert walked.step == "order"


def test_out_of_the_department_the_device_goes_to_the_exit_and_completes() -> None:
    flow = check(document(GARDEN))
    for zones in (frozenset(), frozenset({("store", "rivoli"), ("pickup", "desk")})):
        walked = walk(flow, "still", "look", facts(zones))
        assert (walked.reached, walked.step, walked.exit, walked.messages) == (("still", "end"), "end", "completed", ())


def test_when_nobody_can_say_where_the_device_is_the_branch_waits_to_be_run_again() -> None:
    flow = check(document(GARDEN))
    walked = walk(flow, "still", "look", facts(None))
    assert (walked.reached, walked.step, walked.ran, walked.wake_after) == ((), "still", False, RETRY)
    assert walked.exit is None and walked.awaiting is None


def test_a_timeout_leads_to_the_offer_and_a_step_with_no_next_completes() -> None:
    flow = check(document(GARDEN))
    walked = walk(flow, flow.after_parking("order"), "order", facts())
    assert (walked.reached, walked.messages, walked.step, walked.exit) == (("offer",), ("offer",), "offer", "completed")


def test_the_awaited_order_leads_to_the_exit() -> None:
    flow = check(document(GARDEN))
    walked = walk(flow, flow.after_event("order"), "order", facts())
    assert (walked.reached, walked.messages, walked.step, walked.exit) == (("end",), (), "end", "completed")


def test_a_wait_with_no_next_completes_where_it_parked() -> None:
    flow = flow_of([{"id": "w", "type": "wait", "for": "PT1M"}])
    assert flow.after_parking("w") is None
    walked = walk(flow, None, "w", facts())
    assert (walked.reached, walked.step, walked.ran, walked.exit) == ((), "w", True, "completed")


def test_a_wait_for_with_no_next_completes_either_way() -> None:
    flow = flow_of([{"id": "f", "type": "wait_for", "event": "zone.dwelled", "timeout": "PT30S"}])
    walked = walk(flow, "f", "f", facts())
    assert (walked.awaiting, walked.wake_after) == ("zone.dwelled", timedelta(seconds=30))
    assert flow.after_parking("f") is None and flow.after_event("f") is None


def branching(condition: dict[str, Any]) -> Flow:
    return flow_of([
        {"id": "b", "type": "branch", "if": condition, "then": "yes", "else": "no"},
        {"id": "yes", "type": "exit"},
        {"id": "no", "type": "exit"},
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "holds", "fails"),
    [
        ({"in_stock": "YOG-1"}, facts(stock={"YOG-1": 2}), facts(stock={"YOG-1": 0})),
        ({"in_stock": "YOG-1"}, facts(stock={"YOG-1": 1}), facts(stock={})),
        ({"consent": "offers"}, facts(consents={"offers": True}), facts(consents={"offers": False})),
        ({"consent": "offers"}, facts(consents={"offers": True}), facts(consents={})),
        ({"had_event": "zone.exited"}, facts(seen={"zone.exited"}), facts(seen={"zone.entered"})),
        ({"in_zone": {"zone_id": "garden"}}, facts(IN_GARDEN), facts(frozenset({("department", "kitchen")}))),
        ({"in_zone": {}}, facts(IN_GARDEN), facts(frozenset())),
        (
            {"in_zone": {"zone_kind": "pickup", "zone_id": "desk"}},
            facts(frozenset({("pickup", "desk")})),
            facts(frozenset({("pickup", "door"), ("department", "desk")})),
        ),
    ],
)
def test_a_branch_takes_then_when_its_condition_holds_and_else_otherwise(
    condition: dict[str, Any], holds: Facts, fails: Facts
) -> None:
    flow = branching(condition)
    assert walk(flow, "b", "b", holds).step == "yes"
    assert walk(flow, "b", "b", fails).step == "no"


def test_a_branch_with_no_way_for_its_answer_completes_at_the_branch() -> None:
    flow = flow_of([{"id": "b", "type": "branch", "if": {"consent": "offers"}, "then": "x"}, EXIT])
    walked = walk(flow, "b", "b", facts(consents={"offers": False}))
    assert (walked.reached, walked.step, walked.exit) == (("b",), "b", "completed")


def test_messages_are_said_in_order_on_the_way_to_a_wait() -> None:
    flow = flow_of([
        {"id": "m1", "type": "message", "purpose": "pickup_updates", "message": {"en": {"title": "t", "body": "b"}},
         "next": "m2"},
        {"id": "m2", "type": "message", "purpose": "offers", "sku": "YOG-1", "message": TEXTS, "next": "w"},
        WAIT,
        EXIT,
    ])  # fmt: skip
    walked = walk(flow, "m1", "m1", facts())
    assert (walked.reached, walked.messages, walked.step, walked.ran) == (("m1", "m2", "w"), ("m1", "m2"), "w", True)


def test_messages_said_before_a_branch_nobody_can_answer_are_kept_and_the_branch_runs_again() -> None:
    flow = flow_of([
        {"id": "m", "type": "message", "purpose": "offers", "sku": "YOG-1", "message": TEXTS, "next": "b"},
        {"id": "b", "type": "branch", "if": {"in_zone": {}}, "then": "x", "else": "w"},
        WAIT,
        EXIT,
    ])  # fmt: skip
    walked = walk(flow, "m", "m", facts(None))
    assert (walked.reached, walked.messages, walked.step, walked.ran) == (("m",), ("m",), "b", False)
    assert walk(flow, walked.step, walked.step, facts(IN_GARDEN)).step == "x"


def test_asks_where_names_the_steps_a_walk_may_reach_a_zone_branch_from_before_it_parks() -> None:
    assert check(document(GARDEN)).asks_where == {"still"}
    flow = flow_of([
        {"id": "m", "type": "message", "purpose": "offers", "sku": "YOG-1", "message": TEXTS, "next": "s"},
        {"id": "s", "type": "branch", "if": {"in_stock": "YOG-1"}, "then": "z", "else": "w"},
        {"id": "z", "type": "branch", "if": {"in_zone": {"zone_kind": "department"}}, "then": "x", "else": "w2"},
        WAIT,
        {"id": "w2", "type": "wait", "for": "PT1M", "next": "c"},
        {"id": "c", "type": "branch", "if": {"consent": "offers"}, "then": "x", "else": "x"},
        EXIT,
    ])  # fmt: skip
    assert flow.asks_where == {"m", "s", "z"}  # behind a wait (w, w2) or past it (c): not from here
    assert flow_of([WAIT, EXIT]).asks_where == frozenset()
