"""The group commit that writes concurrent uploads together: who shares a group, in what order, and
whose failure is whose."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.group_commit import GroupCommit


class Recorder:
    """A `run` that records its groups and which keys are being written at the same time."""

    def __init__(self, turns: int = 1) -> None:
        self.groups: list[list[str]] = []
        self.writing: set[str] = set()
        self.overlaps: list[str] = []
        self.most_in_flight = 0
        self._in_flight = 0
        self._turns = turns

    async def run(self, items: list[str]) -> list[str | Exception]:
        self.groups.append(list(items))
        self._in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self._in_flight)
        keys = {key(i) for i in items}
        self.overlaps += sorted(keys & self.writing)
        self.writing |= keys
        for _ in range(self._turns):  # the database round trips, during which others arrive
            await asyncio.sleep(0)
        self.writing -= keys
        self._in_flight -= 1
        return [ValueError(i) if i.endswith("!") else i.upper() for i in items]


def key(item: str) -> str:
    return item.split(".")[0]


async def test_a_lone_upload_goes_at_once_in_a_group_of_its_own() -> None:
    rec = Recorder()
    assert await GroupCommit(rec.run, key).submit("a.1") == "A.1"
    assert rec.groups == [["a.1"]]


async def test_uploads_arriving_together_share_one_group_and_each_gets_its_own_answer() -> None:
    rec = Recorder()
    commit = GroupCommit(rec.run, key)
    answers = await asyncio.gather(*(commit.submit(f"{d}.1") for d in "abcde"))
    assert answers == ["A.1", "B.1", "C.1", "D.1", "E.1"]
    assert rec.groups == [["a.1", "b.1", "c.1", "d.1", "e.1"]]


async def test_a_group_holds_at_most_max_size_uploads() -> None:
    rec = Recorder()
    commit = GroupCommit(rec.run, key, max_size=2, writers=1)
    await asyncio.gather(*(commit.submit(f"{d}.1") for d in "abcde"))
    assert rec.groups == [["a.1", "b.1"], ["c.1", "d.1"], ["e.1"]]


async def test_uploads_of_one_device_never_share_a_group_and_go_in_arrival_order() -> None:
    rec = Recorder()
    commit = GroupCommit(rec.run, key)
    await asyncio.gather(*(commit.submit(i) for i in ["a.1", "b.1", "a.2", "c.1", "a.3"]))
    assert rec.groups == [["a.1", "b.1", "c.1"], ["a.2"], ["a.3"]]


async def test_an_upload_that_fails_fails_alone() -> None:
    commit = GroupCommit(Recorder().run, key)
    answers = await asyncio.gather(*(commit.submit(i) for i in ["a.1", "b.1!", "c.1"]), return_exceptions=True)
    assert answers[0] == "A.1" and answers[2] == "C.1"
    assert isinstance(answers[1], ValueError)


async def test_a_failed_write_fails_its_whole_group_and_the_next_group_still_goes() -> None:
    calls = []

    async def run(items: list[str]) -> list[str | Exception]:
        calls.append(items)
        if len(calls) == 1:
            raise ConnectionError("database gone")
        return [i.upper() for i in items]

    commit = GroupCommit(run, key, writers=1)
    first = await asyncio.gather(commit.submit("a.1"), commit.submit("b.1"), return_exceptions=True)
    assert all(isinstance(a, ConnectionError) for a in first)
    assert await commit.submit("a.2") == "A.2"


@settings(max_examples=60, deadline=None)
@given(
    uploads=st.lists(st.sampled_from("abcd"), min_size=1, max_size=40),
    writers=st.integers(1, 3),
    max_size=st.integers(1, 8),
    turns=st.integers(0, 3),
)
def test_any_stream_is_answered_in_full_in_device_order_without_overlap(
    uploads: list[str], writers: int, max_size: int, turns: int
) -> None:
    items = [f"{d}.{i}" for i, d in enumerate(uploads)]
    rec = Recorder(turns)

    async def main() -> list[str]:
        commit = GroupCommit(rec.run, key, max_size=max_size, writers=writers)
        return await asyncio.gather(*(commit.submit(i) for i in items))

    assert asyncio.run(main()) == [i.upper() for i in items]
    written = [i for g in rec.groups for i in g]
    for d in set(uploads):
        assert [i for i in written if key(i) == d] == [i for i in items if key(i) == d]
    assert all(len({key(i) for i in g}) == len(g) <= max_size for g in rec.groups)
    assert rec.overlaps == [] and rec.most_in_flight <= writers
