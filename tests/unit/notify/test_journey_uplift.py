"""A journey's results: the conversion rate of each arm, their difference with Newcombe's hybrid
score interval (checked against the paper's own figures), and the counts a results answer adds up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.journeys import uplift
from services.notify.journeys.schemas import StepResults
from services.notify.journeys.service import journey_of, tally
from tests.support.journey_documents import document, garden

# Newcombe RG (1998), "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Statistics in Medicine 17:873-890, Table II, method 10 (the score
# interval combining each arm's Wilson interval, no continuity correction).
NEWCOMBE_TABLE_II = [
    ((56, 70), (48, 80), (0.0524, 0.3339)),
    ((9, 10), (3, 10), (0.1705, 0.8090)),
    ((6, 7), (2, 7), (0.0582, 0.8062)),
    ((5, 56), (0, 29), (-0.0381, 0.1926)),
    ((0, 10), (0, 20), (-0.1611, 0.2775)),
    ((0, 10), (0, 10), (-0.2775, 0.2775)),
    ((10, 10), (0, 20), (0.6791, 1.0000)),
    ((10, 10), (0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("treated", "control", "interval"), NEWCOMBE_TABLE_II)
def test_the_interval_is_newcombes_to_four_decimals(
    treated: tuple[int, int], control: tuple[int, int], interval: tuple[float, float]
) -> None:
    d = uplift.difference(treated, control)
    assert d is not None
    assert (round(d.low, 4), round(d.high, 4)) == interval
    assert d.absolute == pytest.approx(treated[0] / treated[1] - control[0] / control[1])


def test_the_relative_uplift_is_over_the_control_rate() -> None:
    d = uplift.difference((56, 70), (48, 80))
    assert d is not None and d.relative == pytest.approx(0.2 / 0.6)


def test_no_relative_uplift_when_the_control_arm_converts_nobody() -> None:
    d = uplift.difference((5, 56), (0, 29))
    assert d is not None and d.relative is None and d.absolute == pytest.approx(5 / 56)


@pytest.mark.parametrize(("treated", "control"), [((0, 0), (3, 10)), ((3, 10), (0, 0)), ((0, 0), (0, 0))])
def test_no_difference_while_an_arm_is_empty(treated: tuple[int, int], control: tuple[int, int]) -> None:
    assert uplift.difference(treated, control) is None


def test_the_rate_of_an_arm_nobody_entered_is_unknown() -> None:
    assert uplift.rate(0, 0) is None
    assert uplift.rate(3, 12) == 0.25


def test_wilson_matches_the_usual_figures() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3: 81/263 -> 0.2553-0.3662.
    low, high = uplift.wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


arms = st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@given(arm=arms)
def test_a_wilson_interval_stays_within_0_and_1_and_holds_its_rate(arm: tuple[int, int]) -> None:
    converted, entered = arm
    low, high = uplift.wilson(converted, entered)
    assert 0.0 <= low <= converted / entered + 1e-12
    assert converted / entered - 1e-12 <= high <= 1.0


@given(treated=arms, control=arms)
def test_the_difference_interval_stays_within_minus_1_and_1_and_holds_the_difference(
    treated: tuple[int, int], control: tuple[int, int]
) -> None:
    d = uplift.difference(treated, control)
    assert d is not None
    assert -1.0 - 1e-12 <= d.low <= d.absolute + 1e-12
    assert d.absolute - 1e-12 <= d.high <= 1.0 + 1e-12


# ------------------------------------------------------------------------------------ tally


def journey(**changes: Any) -> Any:
    stored = msgspec.to_builtins(document(garden(**changes)))
    at = datetime(2026, 5, 1, tzinfo=UTC)
    row = {"journey_id": "garden", "version": 2, "name": "Garden nudge", "active": True, "document": stored,
           "created_at": at, "updated_at": at, "ended_at": None}  # fmt: skip
    return journey_of(row)


def arm(arm: str, exit_reason: str | None, entered: int, converted: int) -> dict[str, Any]:
    return {"arm": arm, "exit_reason": exit_reason, "entered": entered, "converted": converted}


ARMS = [
    arm("treatment", None, 3, 1),  # still in it
    arm("treatment", "completed", 10, 3),
    arm("treatment", "exit_event", 2, 0),
    arm("control", "completed", 4, 1),
    arm("control", "journey_ended", 1, 0),
]
REACHED = [{"step": s, "reached": n} for s, n in [("look", 20), ("still", 18), ("order", 9), ("offer", 6),
                                                   ("end", 12), ("older", 2)]]  # fmt: skip
"""`older`: a step of the version before, which some of these devices entered."""
MESSAGES = [
    {"step": "offer", "status": s, "reason": r, "n": n}
    for s, r, n in [
        ("sent", None, 3),
        ("pending", None, 1),
        ("sending", None, 1),
        ("held", "quiet_hours", 1),
        ("failed", None, 1),
        ("suppressed", "holdout", 1),
        ("suppressed", "frequency_cap", 2),
    ]
] + [{"step": "older_offer", "status": "suppressed", "reason": "paused", "n": 1}]
LIVE = [{"step": "look", "n": 2}, {"step": "order", "n": 1}]


def test_results_add_up_the_counts_as_counted_by_hand() -> None:
    r = tally(journey(), ARMS, REACHED, MESSAGES, LIVE)
    assert r.journey_id == "garden"
    assert r.entered == {"treatment": 15, "control": 5}
    assert r.exits == {"completed": 14, "exit_event": 2, "journey_ended": 1}  # the 3 still in it: no exit
    assert r.now == {"look": 2, "order": 1}
    assert r.steps["look"] == StepResults(reached=20)
    assert r.steps["end"] == StepResults(reached=12)
    assert r.steps["offer"] == StepResults(
        reached=6, sent=3, pending=3, failed=1, suppressed={"holdout": 1, "frequency_cap": 2}
    )
    assert list(r.steps)[:5] == ["look", "still", "order", "offer", "end"]  # the journey's order first
    assert r.steps["older"] == StepResults(reached=2)
    assert r.steps["older_offer"] == StepResults(reached=0, sent=0, pending=0, failed=0, suppressed={"paused": 1})

    assert r.goal is not None
    assert (r.goal.treatment.entered, r.goal.treatment.converted) == (15, 4)
    assert r.goal.treatment.rate == pytest.approx(4 / 15)
    assert (r.goal.control.entered, r.goal.control.converted, r.goal.control.rate) == (5, 1, 0.2)
    assert r.goal.uplift is not None
    assert r.goal.uplift.absolute == pytest.approx(4 / 15 - 1 / 5)
    assert r.goal.uplift.relative == pytest.approx((4 / 15 - 1 / 5) / (1 / 5))
    expected = uplift.difference((4, 15), (1, 5))
    assert expected is not None and r.goal.uplift.ci95 == (expected.low, expected.high)


def test_a_message_step_nobody_reached_still_shows_its_zeros() -> None:
    r = tally(journey(), [arm("treatment", "completed", 1, 0)], [{"step": "look", "reached": 1}], [], [])
    assert r.steps["offer"] == StepResults(reached=0, sent=0, pending=0, failed=0, suppressed={})
    assert r.steps["still"] == StepResults(reached=0)
    assert r.now == {}


def test_an_empty_control_arm_has_no_rate_and_no_uplift() -> None:
    r = tally(journey(), [arm("treatment", "completed", 4, 2)], [], [], [])
    assert r.goal is not None
    assert r.goal.control.rate is None and r.goal.treatment.rate == 0.5
    assert r.goal.uplift is None


def test_a_control_arm_converting_nobody_has_no_relative_uplift() -> None:
    r = tally(journey(), [arm("treatment", "completed", 4, 2), arm("control", "completed", 3, 0)], [], [], [])
    assert r.goal is not None and r.goal.uplift is not None
    assert r.goal.uplift.absolute == 0.5 and r.goal.uplift.relative is None


def test_a_journey_without_a_goal_has_no_goal_results() -> None:
    r = tally(journey(goal=None), ARMS, REACHED, MESSAGES, LIVE)
    assert r.goal is None and r.entered == {"treatment": 15, "control": 5}
