"""The sender's window of sends in flight: bounded, waited for at stop, nothing lost on an error."""

from __future__ import annotations

import asyncio
import logging

import pytest

from services.notify.outbox.in_flight import InFlight

LOG = logging.getLogger("test.in_flight")
GUARD_S = 5  # only for a broken window: a test fails instead of hanging


async def turns(n: int = 10) -> None:
    """Let every task that can run, run: the loop goes round n times."""
    for _ in range(n):
        await asyncio.sleep(0)


async def held(release: asyncio.Event, done: list[int], i: int) -> None:
    await release.wait()
    done.append(i)


async def test_room_for_a_batch_waits_until_enough_sends_have_ended() -> None:
    window = InFlight(4, LOG)
    releases = [asyncio.Event() for _ in range(4)]
    done: list[int] = []
    for i, release in enumerate(releases):
        window.start(held(release, done, i))
    await asyncio.wait_for(window.room_for(0), GUARD_S)  # a full window still has room for nothing
    waiting = asyncio.create_task(window.room_for(2))
    releases[0].set()
    await turns()
    assert not waiting.done()  # one send ended: room for one, not two
    releases[1].set()
    await asyncio.wait_for(waiting, GUARD_S)
    assert len(window) == 2 and done == [0, 1]
    for release in releases:
        release.set()
    assert await window.finish(GUARD_S)


async def test_finish_waits_for_every_send_in_flight() -> None:
    window = InFlight(8, LOG)
    release = asyncio.Event()
    done: list[int] = []
    for i in range(3):
        window.start(held(release, done, i))
    finishing = asyncio.create_task(window.finish(GUARD_S))
    await turns()
    assert not finishing.done()
    release.set()
    assert await asyncio.wait_for(finishing, GUARD_S)
    assert sorted(done) == [0, 1, 2] and len(window) == 0


async def test_sends_still_out_when_the_time_is_up_are_cancelled() -> None:
    window = InFlight(8, LOG)
    never = asyncio.Event()
    done: list[int] = []
    window.start(held(never, done, 0))
    assert not await window.finish(0.01)
    assert len(window) == 0 and done == []


async def test_a_send_that_raises_is_logged_and_frees_its_place(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug in a channel")

    window = InFlight(1, LOG)
    with caplog.at_level(logging.ERROR, logger=LOG.name):
        window.start(broken())
        await asyncio.wait_for(window.room_for(1), GUARD_S)
    [record] = caplog.records
    assert record.getMessage() == "a send ended with an error"
    assert record.exc_info is not None and str(record.exc_info[1]) == "a bug in a channel"
