"""The Web Push channel against two local push services (the stand-in that checks each push's VAPID JWT
and decrypts it, as a browser would): one JWT per push service, reused, and replaced when refused."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from py_vapid import Vapid

from services.notify.outbox.delivery import topic_of
from services.notify.push import vapid
from services.notify.push.channel import Push, Target
from services.notify.push.push_urls import PushServices
from services.notify.push.vapid_tokens import RESIGN_AFTER_S
from services.notify.push.webpush import WebPushChannel, push_session
from tests.support.push_service import LocalPushService, Subscriber


class Clock:
    """The wall clock, moved on by the test: the stand-ins check exp against the real one."""

    def __init__(self) -> None:
        self.ahead_s = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead_s


@pytest.fixture
def keys() -> vapid.VapidKeys:
    private, public = vapid.generate()
    return vapid.VapidKeys(Vapid.from_raw(private.encode()), public, "mailto:push@example.com")


@pytest.fixture
async def other() -> AsyncIterator[LocalPushService]:
    """A second push service, on another origin."""
    async with LocalPushService() as service:
        yield service


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def channel(
    keys: vapid.VapidKeys, push: LocalPushService, other: LocalPushService, clock: Clock
) -> AsyncIterator[WebPushChannel]:
    services = PushServices.from_hosts([push.host, other.host])
    web_push = WebPushChannel(services, keys, push_session(services, 5), 5, clock=clock)
    yield web_push
    await web_push.close()


def push_to(sub: Subscriber, message_id: int) -> Push:
    keys = sub.subscription()["keys"]
    return Push(
        message_id=message_id,
        purpose="offers",
        target=Target("webpush", sub.endpoint, keys["p256dh"], keys["auth"]),
        title="Bienvenue",
        body="Yaourt nature à -20 %",
        locale="fr",
        topic=topic_of("test", str(message_id)),
        expires_at=datetime.now(UTC) + timedelta(minutes=15),
        urgency="low",
    )


async def test_every_push_to_a_push_service_carries_its_one_jwt_and_another_service_gets_its_own(
    channel: WebPushChannel, keys: vapid.VapidKeys, push: LocalPushService, other: LocalPushService
) -> None:
    first, second = push.subscriber(keys.public_key), push.subscriber(keys.public_key)
    elsewhere = other.subscriber(keys.public_key)
    answers = [await channel.send(push_to(sub, i)) for i, sub in enumerate([first, second, elsewhere, first])]

    # Each stand-in checked the JWT's aud against its own origin: one with the other's would be refused.
    assert [a.label for a in answers] == ["accepted"] * 4
    assert push.refused == [] and other.refused == []
    here = {p.headers["authorization"] for p in push.pushes}
    there = {p.headers["authorization"] for p in other.pushes}
    assert len(here) == 1 and len(there) == 1 and here != there
    assert [p["id"] for p in push.inbox(first)] == [0, 3] and push.inbox(second)[0]["title"] == "Bienvenue"


async def test_an_old_jwt_refused_is_replaced_and_the_push_sent_once_more(
    channel: WebPushChannel, keys: vapid.VapidKeys, push: LocalPushService, clock: Clock
) -> None:
    sub = push.subscriber(keys.public_key)
    assert (await channel.send(push_to(sub, 1))).label == "accepted"
    clock.ahead_s = RESIGN_AFTER_S
    push.answer(sub, 403)  # the push service no longer takes the JWT it took a minute ago

    answer = await channel.send(push_to(sub, 2))

    assert answer.label == "accepted"
    first, refused, resent = push.received(sub)
    assert [refused.answer, resent.answer] == [403, 201]
    assert refused.headers["authorization"] == first.headers["authorization"] != resent.headers["authorization"]
    assert refused.payload == resent.payload and refused.topic == resent.topic  # the same message
    assert [p["id"] for p in push.inbox(sub)] == [1, 2]


async def test_a_jwt_refused_just_after_signing_is_the_answer(
    channel: WebPushChannel, keys: vapid.VapidKeys, push: LocalPushService
) -> None:
    sub = push.subscriber(keys.public_key)
    push.answer(sub, 403)

    answer = await channel.send(push_to(sub, 1))

    assert (answer.label, answer.code) == ("rejected", 403)
    assert len(push.received(sub)) == 1  # a new signature would change nothing: not sent again
