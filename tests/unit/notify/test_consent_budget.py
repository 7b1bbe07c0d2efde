"""Which consent answers the hourly budget may refuse: never one that only takes back a yes, and yet a
device cannot grow its history without bound through such answers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.notify.consent.service import only_withdraws
from shared.events import PURPOSES, Purpose

NO = dict.fromkeys(PURPOSES, False)


def answer(*yes: Purpose) -> dict[Purpose, bool]:
    return {**NO, **dict.fromkeys(yes, True)}


def test_taking_back_a_yes_is_a_withdrawal() -> None:
    assert only_withdraws(answer("offers", "location"), answer("location"))
    assert only_withdraws(answer("offers", "location"), NO)


def test_an_answer_that_gives_any_yes_is_budgeted_even_if_it_takes_one_back() -> None:
    assert not only_withdraws(answer("offers"), answer("location"))
    assert not only_withdraws(NO, answer("offers"))


def test_an_answer_that_changes_no_purpose_is_budgeted() -> None:
    # (a new text or policy version with the same answers: a change of proof, counted like any)
    assert not only_withdraws(NO, NO)
    assert not only_withdraws(answer("offers"), answer("offers"))


answers = st.lists(st.fixed_dictionaries({p: st.booleans() for p in PURPOSES}), max_size=60)


@given(answers)
def test_withdrawals_are_at_most_one_per_yes_the_budget_let_through(sequence: list[dict[Purpose, bool]]) -> None:
    """Whatever a device sends, the answers spared the budget are bounded by those it counted: each
    takes back at least one yes, and only a counted answer gives one."""
    current, counted, spared = NO, 0, 0
    for after in sequence:
        if only_withdraws(current, after):
            spared += 1
        else:
            counted += 1
        current = after
    assert spared <= len(PURPOSES) * counted
